// Package functions is the home of the faas-benchmarker lab functions:
// function1, function2, function3 and monolith, written once and run on
// every platform by thin adapters.
//
//	lab/            the platform-independent behaviour and the wire schema (package lab)
//	lab/workloads/  the monolith's workloads
//	lambdaadapter/  AWS Lambda (provided.al2023, Runtime API) adapter and SDK nested invoker
//	httpadapter/    Azure custom handler + plain HTTP adapter and HTTP nested invoker
//	labruntime/     environment → handlers → adapter; the entry point of every binary
//	                (the monolith, cmd/fbrun-lab and `fbrun lab-runtime` pass the workloads in)
//	artifacts/      builds the Lambda and Azure packages (scripts/build-functions)
//	cmd/            bootstrap (function1/2/3 on Lambda), monolith, httpfn, build-functions
//	openfaas/       the OpenFaaS Dockerfile (of-watchdog in http mode)
//
// docs/lab-functions.md documents the request, response, guards and
// artifacts.
package functions

package experiments

import (
	"fmt"
	"math"
	"sort"
	"strings"
)

// PricesAsOf is the date of the price table: the providers' published list
// prices valid at that date. The table was written on a machine without
// internet access, so it was not re-read from the source pages when it was
// committed. Prices change: check the sources before quoting a cost, and
// update the table (with this date) when they do.
const PricesAsOf = "2025-06-01"

// Price is the on-demand price of one platform configuration.
type Price struct {
	// Name is the key used by the throughput experiment's price parameter.
	Name string
	// PerRequestUSD is the price of one request (invocation).
	PerRequestUSD float64
	// PerGBSecondUSD is the price of one GB-second of configured memory.
	PerGBSecondUSD float64
	// MinBilledMS is the smallest billed duration per invocation.
	MinBilledMS float64
	// GranularityMS rounds the billed duration up to a multiple of it.
	GranularityMS float64
	// MemoryStepMB rounds the memory up to a multiple of it (0: exact).
	MemoryStepMB float64
	// Source is the page the numbers come from.
	Source string
	// Note says what the price covers and leaves out.
	Note string
}

// Prices is the dated price table (see PricesAsOf). Free tiers are not
// deducted: these are marginal prices.
var Prices = []Price{
	{
		Name: "aws-lambda-x86", PerRequestUSD: 0.20 / 1e6, PerGBSecondUSD: 0.0000166667,
		MinBilledMS: 1, GranularityMS: 1,
		Source: "https://aws.amazon.com/lambda/pricing/",
		Note:   "us-east-1, x86_64, first pricing tier (first 6 billion GB-s per month), on-demand",
	},
	{
		Name: "aws-lambda-arm", PerRequestUSD: 0.20 / 1e6, PerGBSecondUSD: 0.0000133334,
		MinBilledMS: 1, GranularityMS: 1,
		Source: "https://aws.amazon.com/lambda/pricing/",
		Note:   "us-east-1, arm64 (Graviton2), first pricing tier, on-demand",
	},
	{
		Name: "azure-consumption", PerRequestUSD: 0.20 / 1e6, PerGBSecondUSD: 0.000016,
		MinBilledMS: 100, GranularityMS: 1, MemoryStepMB: 128,
		Source: "https://azure.microsoft.com/en-us/pricing/details/functions/",
		Note:   "Linux Consumption plan (Y1, fb:plan=consumption); memory is observed memory rounded up to 128 MB, at least 100 ms per execution",
	},
	{
		// Flex Consumption, on-demand instances: execution time per GB-s of
		// the instance memory size and a price per execution (Azure
		// Functions pricing page, Flex Consumption, "On Demand": $0.000026
		// per GB-s and $0.40 per million executions, the list price since
		// the plan's general availability in November 2024, as of
		// PricesAsOf). Microsoft Learn, "Azure Functions Flex Consumption
		// plan hosting", Billing: "The minimum billable execution period
		// ... is 1,000 ms. Past that, the billable activity period is
		// rounded up to the nearest 100 ms."
		Name: "azure-flex", PerRequestUSD: 0.40 / 1e6, PerGBSecondUSD: 0.000026,
		MinBilledMS: 1000, GranularityMS: 100,
		Source: "https://azure.microsoft.com/en-us/pricing/details/functions/",
		Note: "Flex Consumption plan (FC1, fb:plan=flex), on-demand instances, no always-ready instances; memory is the instance memory size " +
			"(512, 2048 or 4096 MB, pass it as memoryMB), at least 1 s per execution then 100 ms steps; concurrent executions on one instance " +
			"are billed once on Azure, so the per-invocation cost is an upper bound under concurrency",
	},
}

// PriceByName returns the named price, or an error listing the known ones.
func PriceByName(name string) (Price, error) {
	var names []string
	for _, p := range Prices {
		if p.Name == name {
			return p, nil
		}
		names = append(names, p.Name)
	}
	sort.Strings(names)
	return Price{}, fmt.Errorf("unknown price %q (known: %s)", name, strings.Join(names, ", "))
}

// Cost returns the price of one invocation billed for billedMS at memoryMB.
func (p Price) Cost(billedMS, memoryMB float64) float64 {
	ms := math.Max(billedMS, p.MinBilledMS)
	if p.GranularityMS > 0 {
		ms = math.Ceil(ms/p.GranularityMS) * p.GranularityMS
	}
	mem := memoryMB
	if p.MemoryStepMB > 0 {
		mem = math.Ceil(mem/p.MemoryStepMB) * p.MemoryStepMB
	}
	return p.PerRequestUSD + p.PerGBSecondUSD*(ms/1000)*(mem/1024)
}

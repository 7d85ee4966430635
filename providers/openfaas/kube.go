package openfaas

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/faas-benchmarker/faas-benchmarker/providers"
	"github.com/faas-benchmarker/faas-benchmarker/providers/internal/httpx"
)

// The Kubernetes client below speaks the REST API directly (net/http and
// a kubeconfig parser) instead of linking k8s.io/client-go: the provider
// needs two calls of one subresource, and client-go's dependency tree
// (apimachinery, the generated typed clients) would multiply the compile
// time of every binary that links the openfaas provider.

// kubeconfig is the part of a kubeconfig file (YAML or JSON; see
// https://kubernetes.io/docs/concepts/configuration/organize-cluster-access-kubeconfig/)
// the provider reads.
type kubeconfig struct {
	CurrentContext string `yaml:"current-context"`
	Contexts       []struct {
		Name    string `yaml:"name"`
		Context struct {
			Cluster string `yaml:"cluster"`
			User    string `yaml:"user"`
		} `yaml:"context"`
	} `yaml:"contexts"`
	Clusters []struct {
		Name    string `yaml:"name"`
		Cluster struct {
			Server                   string `yaml:"server"`
			CertificateAuthorityData string `yaml:"certificate-authority-data"`
			InsecureSkipTLSVerify    bool   `yaml:"insecure-skip-tls-verify"`
		} `yaml:"cluster"`
	} `yaml:"clusters"`
	Users []struct {
		Name string `yaml:"name"`
		User struct {
			Token                 string    `yaml:"token"`
			ClientCertificateData string    `yaml:"client-certificate-data"`
			ClientKeyData         string    `yaml:"client-key-data"`
			Exec                  *execAuth `yaml:"exec"`
		} `yaml:"user"`
	} `yaml:"users"`
}

// execAuth is a kubeconfig exec credential plugin (EKS kubeconfigs run
// `aws eks get-token`), see
// https://kubernetes.io/docs/reference/access-authn-authz/authentication/#client-go-credential-plugins.
type execAuth struct {
	APIVersion string   `yaml:"apiVersion"`
	Command    string   `yaml:"command"`
	Args       []string `yaml:"args"`
	Env        []struct {
		Name  string `yaml:"name"`
		Value string `yaml:"value"`
	} `yaml:"env"`
}

// kubeClient calls the Kubernetes API of the cluster a kubeconfig names.
type kubeClient struct {
	server string
	client *http.Client
	static string    // bearer token from the kubeconfig
	exec   *execAuth // or a credential plugin

	mu      sync.Mutex
	token   string
	expires time.Time
}

// newKubeClient parses a kubeconfig (its current context) into a client.
func newKubeClient(data []byte) (*kubeClient, error) {
	var kc kubeconfig
	if err := yaml.Unmarshal(data, &kc); err != nil {
		return nil, fmt.Errorf("kubeconfig: %w", err)
	}
	ctxName := kc.CurrentContext
	if ctxName == "" && len(kc.Contexts) == 1 {
		ctxName = kc.Contexts[0].Name
	}
	var clusterName, userName string
	found := false
	for _, c := range kc.Contexts {
		if c.Name == ctxName {
			clusterName, userName, found = c.Context.Cluster, c.Context.User, true
		}
	}
	if !found {
		return nil, fmt.Errorf("kubeconfig: no context %q", ctxName)
	}
	kcl := &kubeClient{}
	tlsCfg := &tls.Config{MinVersion: tls.VersionTLS12}
	for _, c := range kc.Clusters {
		if c.Name != clusterName {
			continue
		}
		kcl.server = strings.TrimRight(c.Cluster.Server, "/")
		if c.Cluster.CertificateAuthorityData != "" {
			pem, err := base64.StdEncoding.DecodeString(c.Cluster.CertificateAuthorityData)
			if err != nil {
				return nil, fmt.Errorf("kubeconfig: cluster %s: certificate-authority-data: %w", clusterName, err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("kubeconfig: cluster %s: no certificate in certificate-authority-data", clusterName)
			}
			tlsCfg.RootCAs = pool
		}
		tlsCfg.InsecureSkipVerify = c.Cluster.InsecureSkipTLSVerify
	}
	if kcl.server == "" {
		return nil, fmt.Errorf("kubeconfig: cluster %q has no server", clusterName)
	}
	if u, err := url.Parse(kcl.server); err != nil || u.Scheme != "https" && !(u.Scheme == "http" && httpx.IsLoopback(u.Hostname())) {
		return nil, fmt.Errorf("kubeconfig: server %q must be an https URL", httpx.SafeURL(kcl.server))
	}
	for _, u := range kc.Users {
		if u.Name != userName {
			continue
		}
		kcl.static, kcl.exec = u.User.Token, u.User.Exec
		if u.User.ClientCertificateData != "" {
			cert, err := decodeKeyPair(u.User.ClientCertificateData, u.User.ClientKeyData)
			if err != nil {
				return nil, fmt.Errorf("kubeconfig: user %s: %w", userName, err)
			}
			tlsCfg.Certificates = []tls.Certificate{cert}
		}
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = tlsCfg
	kcl.client = &http.Client{Transport: tr, Timeout: 30 * time.Second}
	return kcl, nil
}

func decodeKeyPair(certData, keyData string) (tls.Certificate, error) {
	c, err := base64.StdEncoding.DecodeString(certData)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("client-certificate-data: %w", err)
	}
	k, err := base64.StdEncoding.DecodeString(keyData)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("client-key-data: %w", err)
	}
	return tls.X509KeyPair(c, k)
}

// bearer returns the token to send, running the exec plugin when the
// cached one is missing or about to expire.
func (k *kubeClient) bearer(ctx context.Context) (string, error) {
	if k.exec == nil {
		return k.static, nil
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.token != "" && time.Now().Add(time.Minute).Before(k.expires) {
		return k.token, nil
	}
	cmd := exec.CommandContext(ctx, k.exec.Command, k.exec.Args...)
	cmd.Env = os.Environ()
	for _, e := range k.exec.Env {
		cmd.Env = append(cmd.Env, e.Name+"="+e.Value)
	}
	info, _ := json.Marshal(map[string]any{"apiVersion": k.exec.APIVersion, "kind": "ExecCredential",
		"spec": map[string]any{"interactive": false}})
	cmd.Env = append(cmd.Env, "KUBERNETES_EXEC_INFO="+string(info))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("kubeconfig credential plugin %s: %w: %s", k.exec.Command, err, strings.TrimSpace(stderr.String()))
	}
	var cred struct {
		Status struct {
			Token               string `json:"token"`
			ExpirationTimestamp string `json:"expirationTimestamp"`
		} `json:"status"`
	}
	if err := json.Unmarshal(out, &cred); err != nil || cred.Status.Token == "" {
		return "", fmt.Errorf("kubeconfig credential plugin %s: no ExecCredential token in its output", k.exec.Command)
	}
	k.token = cred.Status.Token
	k.expires = time.Now().Add(10 * time.Minute)
	if t, err := time.Parse(time.RFC3339, cred.Status.ExpirationTimestamp); err == nil {
		k.expires = t
	}
	return k.token, nil
}

// scale is the autoscaling/v1 Scale object of a Deployment.
type scale struct {
	Spec struct {
		Replicas int32 `json:"replicas"`
	} `json:"spec"`
	Status struct {
		Replicas int32 `json:"replicas"`
	} `json:"status"`
}

// scalePath is the Deployment's scale subresource
// (https://kubernetes.io/docs/reference/kubernetes-api/workload-resources/deployment-v1/#update-replace-scale-of-the-specified-deployment).
func (k *kubeClient) scalePath(namespace, name string) string {
	return k.server + "/apis/apps/v1/namespaces/" + url.PathEscape(namespace) + "/deployments/" + url.PathEscape(name) + "/scale"
}

// do sends one request to the API server and decodes a Scale reply.
func (k *kubeClient) do(ctx context.Context, method, u, contentType string, body []byte) (scale, error) {
	var sc scale
	token, err := k.bearer(ctx)
	if err != nil {
		return sc, &providers.Error{Platform: PlatformName, Kind: providers.KindAuth, Message: err.Error()}
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return sc, fmt.Errorf("kubernetes: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := k.client.Do(req)
	if err != nil {
		return sc, err
	}
	defer resp.Body.Close()
	var status struct {
		Message string `json:"message"`
	}
	dec := json.NewDecoder(http.MaxBytesReader(nil, resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		_ = dec.Decode(&status)
		msg := fmt.Sprintf("kubernetes %s %s: %s", method, strings.TrimPrefix(u, k.server), resp.Status)
		if status.Message != "" {
			msg += ": " + status.Message
		}
		return sc, &providers.Error{Platform: PlatformName, Kind: httpx.ClassifyStatus(resp.StatusCode),
			StatusCode: resp.StatusCode, Message: msg}
	}
	if err := dec.Decode(&sc); err != nil {
		return sc, fmt.Errorf("kubernetes %s: decode Scale: %w", strings.TrimPrefix(u, k.server), err)
	}
	return sc, nil
}

// scaleDeployment sets the Deployment's replicas with a JSON merge patch
// of its scale subresource and returns the Scale the server answered.
func (k *kubeClient) scaleDeployment(ctx context.Context, namespace, name string, replicas int32) (scale, error) {
	body, _ := json.Marshal(map[string]any{"spec": map[string]any{"replicas": replicas}})
	return k.do(ctx, http.MethodPatch, k.scalePath(namespace, name), "application/merge-patch+json", body)
}

// getScale reads the Deployment's scale subresource.
func (k *kubeClient) getScale(ctx context.Context, namespace, name string) (scale, error) {
	return k.do(ctx, http.MethodGet, k.scalePath(namespace, name), "", nil)
}

package openfaas

import (
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
)

// cluster is the state shared by the fake gateway and the fake Kubernetes
// API: the function Deployments of namespace openfaas-fn.
type cluster struct {
	mu     sync.Mutex
	deps   map[string]*deployment
	events []string // scale events, e.g. "k8s scale fb-function1 0", "scale-from-zero fb-function1"
}

type deployment struct {
	spec      int32 // spec.replicas
	status    int32 // status.replicas (pods not yet terminated)
	available int32
	min       int32 // com.openfaas.scale.min
	stuck     bool  // pods never terminate
}

func newCluster(names ...string) *cluster {
	c := &cluster{deps: map[string]*deployment{}}
	for _, n := range names {
		c.deps[n] = &deployment{spec: 1, status: 1, available: 1, min: 1}
	}
	return c
}

func (c *cluster) log(e string) {
	c.events = append(c.events, e)
}

// Events returns the scale events so far.
func (c *cluster) Events() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.events...)
}

// tick lets one step of the scale-down happen: one terminating pod goes.
func (d *deployment) tick() {
	if d.status > d.spec && !d.stuck {
		d.status--
	}
	if d.available > d.status {
		d.available = d.status
	}
}

// gateway is a fake OpenFaaS gateway that behaves like the Community
// Edition (faas-netes CE), or like Pro when pro is set. What it enforces,
// and where that is documented:
//   - POST /system/scale-function/{name} with replicas 0 is refused with
//     400 "replicas cannot be set to 0 in OpenFaaS CE", and replicas above
//     5 are capped at 5 (faas-netes pkg/handlers/replica_updater.go,
//     MaxReplicas; https://docs.openfaas.com/openfaas-pro/introduction/
//     lists scale to zero as a Pro feature);
//   - GET /system/info names the provider faas-netes-ce
//     (faas-netes pkg/handlers/info.go);
//   - /system/ routes need basic auth, /function/ routes do not;
//   - GET /system/function/{name} omits a zero availableReplicas
//     (omitempty in faas-provider types.FunctionStatus);
//   - an invocation of a function at 0 replicas scales it from zero to
//     its minimum first (gateway scale_from_zero, kept in CE).
type gateway struct {
	t       *testing.T
	cluster *cluster
	pro     bool
	srv     *httptest.Server
	invoke  func(w http.ResponseWriter) // overrides the invocation reply

	mu     sync.Mutex
	seq    []string
	bodies []string
}

func newGateway(t *testing.T, c *cluster) *gateway {
	g := &gateway{t: t, cluster: c}
	g.srv = httptest.NewServer(http.HandlerFunc(g.serve))
	t.Cleanup(g.srv.Close)
	return g
}

func (g *gateway) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	g.mu.Lock()
	g.seq = append(g.seq, r.Method+" "+r.URL.RequestURI())
	g.bodies = append(g.bodies, string(body))
	g.mu.Unlock()
	u, pw, ok := r.BasicAuth()
	authed := ok && u == user && pw == password
	c := g.cluster
	switch {
	case strings.HasPrefix(r.URL.Path, "/function/"):
		if r.Header.Get("Content-Type") != "application/json" {
			g.t.Errorf("invoke content type %q", r.Header.Get("Content-Type"))
		}
		name, _, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/function/"), ".")
		c.mu.Lock()
		d, found := c.deps[name]
		if found && d.spec == 0 {
			d.spec, d.status, d.available = max(d.min, 1), max(d.min, 1), max(d.min, 1)
			c.log("scale-from-zero " + name)
		}
		c.mu.Unlock()
		if !found {
			http.Error(w, "Cannot find service: "+name+".", http.StatusNotFound)
			return
		}
		w.Header().Set("X-Call-Id", "call-7")
		if g.invoke != nil {
			g.invoke(w)
			return
		}
		w.Write(body)
	case !authed:
		w.WriteHeader(http.StatusUnauthorized)
		w.Write([]byte("invalid credentials"))
	case r.Method == http.MethodGet && r.URL.Path == "/system/info":
		name := "faas-netes-ce"
		if g.pro {
			name = "faas-netes-pro"
		}
		json.NewEncoder(w).Encode(map[string]any{
			"provider": map[string]any{"provider": name, "orchestration": "kubernetes",
				"version": map[string]string{"release": "0.18.0", "sha": "abc"}},
			"version": map[string]string{"release": "0.27.0", "sha": "def"},
			"arch":    "x86_64",
		})
	case r.Method == http.MethodPost && strings.HasPrefix(r.URL.Path, "/system/scale-function/"):
		var req scaleRequest
		if err := json.Unmarshal(body, &req); err != nil {
			http.Error(w, "Cannot parse request. Please pass valid JSON.", http.StatusBadRequest)
			return
		}
		if req.Replicas == 0 && !g.pro {
			http.Error(w, "replicas cannot be set to 0 in OpenFaaS CE", http.StatusBadRequest)
			return
		}
		n := int32(req.Replicas)
		if !g.pro && n >= CEMaxReplicas {
			n = CEMaxReplicas
		}
		name := strings.TrimPrefix(r.URL.Path, "/system/scale-function/")
		c.mu.Lock()
		d, found := c.deps[name]
		if found {
			d.spec = n
			if n > d.status {
				d.status, d.available = n, n
			}
			c.log(fmt.Sprintf("gateway scale %s %d", name, n))
		}
		c.mu.Unlock()
		if !found {
			http.Error(w, "Unable to lookup function deployment "+name, http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusAccepted)
	case r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/system/function/"):
		name := strings.TrimPrefix(r.URL.Path, "/system/function/")
		c.mu.Lock()
		d, found := c.deps[name]
		var st map[string]any
		if found {
			d.tick()
			st = map[string]any{"name": name, "replicas": d.spec}
			if d.available > 0 {
				st["availableReplicas"] = d.available
			}
		}
		c.mu.Unlock()
		if !found {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		json.NewEncoder(w).Encode(st)
	default:
		w.WriteHeader(http.StatusNotFound)
	}
}

func (g *gateway) requests() ([]string, []string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]string(nil), g.seq...), append([]string(nil), g.bodies...)
}

// kubeAPI is a fake Kubernetes API server (TLS, bearer token) serving the
// scale subresource of the cluster's Deployments at its real REST path,
// GET|PATCH /apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale
// (https://kubernetes.io/docs/reference/kubernetes-api/workload-resources/deployment-v1/).
// It enforces what the API server does: 401 without the token, 404 (a
// Status object) for an unknown Deployment, 415 for a PATCH whose
// Content-Type is not one of the patch types
// (https://kubernetes.io/docs/reference/using-api/api-concepts/#patch-and-apply),
// and a scale-down that takes effect over several reads (pods terminate).
type kubeAPI struct {
	cluster *cluster
	token   string
	srv     *httptest.Server

	mu  sync.Mutex
	seq []string
}

var scaleRE = regexp.MustCompile(`^/apis/apps/v1/namespaces/([^/]+)/deployments/([^/]+)/scale$`)

func newKubeAPI(t *testing.T, c *cluster, token string) *kubeAPI {
	k := &kubeAPI{cluster: c, token: token}
	k.srv = httptest.NewTLSServer(http.HandlerFunc(k.serve))
	t.Cleanup(k.srv.Close)
	return k
}

func status(w http.ResponseWriter, code int, reason, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(map[string]any{"kind": "Status", "apiVersion": "v1", "status": "Failure",
		"message": msg, "reason": reason, "code": code})
}

func (k *kubeAPI) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	k.mu.Lock()
	k.seq = append(k.seq, r.Method+" "+r.URL.Path+" "+r.Header.Get("Content-Type")+" "+string(body))
	k.mu.Unlock()
	if r.Header.Get("Authorization") != "Bearer "+k.token {
		status(w, http.StatusUnauthorized, "Unauthorized", "Unauthorized")
		return
	}
	m := scaleRE.FindStringSubmatch(r.URL.Path)
	if m == nil {
		status(w, http.StatusNotFound, "NotFound", "the server could not find the requested resource")
		return
	}
	ns, name := m[1], m[2]
	c := k.cluster
	c.mu.Lock()
	defer c.mu.Unlock()
	d, found := c.deps[name]
	if ns != DefaultFunctionNamespace || !found {
		status(w, http.StatusNotFound, "NotFound", fmt.Sprintf("deployments.apps %q not found", name))
		return
	}
	switch r.Method {
	case http.MethodGet:
		d.tick()
	case http.MethodPatch:
		switch r.Header.Get("Content-Type") {
		case "application/merge-patch+json", "application/strategic-merge-patch+json":
		default:
			status(w, http.StatusUnsupportedMediaType, "UnsupportedMediaType",
				"the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml")
			return
		}
		var patch struct {
			Spec struct {
				Replicas *int32 `json:"replicas"`
			} `json:"spec"`
		}
		if err := json.Unmarshal(body, &patch); err != nil || patch.Spec.Replicas == nil || *patch.Spec.Replicas < 0 {
			status(w, http.StatusUnprocessableEntity, "Invalid", "spec.replicas: Invalid value")
			return
		}
		d.spec = *patch.Spec.Replicas
		c.log(fmt.Sprintf("k8s scale %s %d", name, d.spec))
	default:
		status(w, http.StatusMethodNotAllowed, "MethodNotAllowed", "method not allowed")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{
		"kind": "Scale", "apiVersion": "autoscaling/v1",
		"metadata": map[string]any{"name": name, "namespace": ns},
		"spec":     map[string]any{"replicas": d.spec},
		"status":   map[string]any{"replicas": d.status, "selector": "faas_function=" + name},
	})
}

func (k *kubeAPI) requests() []string {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([]string(nil), k.seq...)
}

// kubeconfig returns a kubeconfig (YAML) for the fake API server with the
// server's CA and user, as EKS writes one (token from an exec plugin when
// execToken is set).
func (k *kubeAPI) kubeconfig(token string, exec bool) []byte {
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: k.srv.Certificate().Raw})
	user := fmt.Sprintf("    token: %q\n", token)
	if exec {
		cred := fmt.Sprintf(`{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1beta1","status":{"token":%q,"expirationTimestamp":"2099-01-01T00:00:00Z"}}`, token)
		user = fmt.Sprintf("    exec:\n      apiVersion: client.authentication.k8s.io/v1beta1\n      command: sh\n      args: [\"-c\", %q]\n", "echo '"+cred+"'")
	}
	return []byte(fmt.Sprintf(`apiVersion: v1
kind: Config
current-context: lab
clusters:
- name: lab-cluster
  cluster:
    server: %s
    certificate-authority-data: %s
contexts:
- name: lab
  context:
    cluster: lab-cluster
    user: lab-user
users:
- name: lab-user
  user:
%s`, k.srv.URL, base64.StdEncoding.EncodeToString(ca), user))
}

package permanent

import (
	"slices"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"gopkg.in/yaml.v3"

	"github.com/faas-benchmarker/faas-benchmarker/stacks/internal/stacktest"
	"github.com/faas-benchmarker/faas-benchmarker/stacks/stackcfg"
)

const (
	typeTag      = "digitalocean:index/tag:Tag"
	typeBucket   = "digitalocean:index/spacesBucket:SpacesBucket"
	typeKey      = "digitalocean:index/sshKey:SshKey"
	typeDroplet  = "digitalocean:index/droplet:Droplet"
	typeFirewall = "digitalocean:index/firewall:Firewall"
	testKey      = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExampleKeyOnlyForTests me@laptop"
)

func config(t *testing.T, overrides ...string) stackcfg.Permanent {
	t.Helper()
	c := stackcfg.DefaultPermanent()
	base := []string{"sshPublicKey=" + testKey, "sshCidrs=203.0.113.7/32,2001:db8::/64"}
	if err := stackcfg.ApplyOverrides(&c, append(base, overrides...)); err != nil {
		t.Fatal(err)
	}
	return c
}

func mocks() *stacktest.Mocks {
	return &stacktest.Mocks{State: func(r stacktest.Resource) resource.PropertyMap {
		switch r.Type {
		case typeBucket:
			if _, ok := r.Inputs["name"]; !ok {
				return resource.PropertyMap{"name": resource.NewProperty("fb-results-1a2b3c")}
			}
		case typeDroplet:
			return resource.PropertyMap{"ipv4Address": resource.NewProperty("198.51.100.20")}
		case typeKey:
			return resource.PropertyMap{"fingerprint": resource.NewProperty("aa:bb:cc")}
		}
		return nil
	}}
}

func run(t *testing.T, cfg stackcfg.Permanent) (*stacktest.Mocks, map[string]stacktest.Value) {
	t.Helper()
	m := mocks()
	outs, err := stacktest.Run(t, m, func(ctx *pulumi.Context) (map[string]pulumi.Output, error) {
		return Deploy(ctx, cfg)
	})
	if err != nil {
		t.Fatalf("program failed: %v", err)
	}
	return m, outs
}

func TestResources(t *testing.T) {
	m, outs := run(t, config(t, "tags=team-a"))
	want := map[string]int{typeTag: 4, typeBucket: 1, typeKey: 1, typeDroplet: 1, typeFirewall: 1}
	got := m.Counts()
	for typ, n := range want {
		if got[typ] != n {
			t.Errorf("%s: %d, want %d", typ, got[typ], n)
		}
	}
	if len(got) != len(want) {
		t.Errorf("unexpected resource types: %v", got)
	}

	bucket := m.OfType(typeBucket)[0]
	if stacktest.Str(t, bucket, "region") != "fra1" || stacktest.Str(t, bucket, "acl") != "private" {
		t.Errorf("bucket = %v", stacktest.Plain(bucket))
	}
	if !bucket.Protect {
		t.Error("results bucket is not protected")
	}

	d := m.OfType(typeDroplet)[0]
	in := stacktest.Plain(d)
	if in["size"] != "s-2vcpu-4gb" || in["region"] != "fra1" || in["image"] != "ubuntu-24-04-x64" {
		t.Errorf("droplet = %v", in)
	}
	if tags := stacktest.ToStrings(in["tags"]); !slices.Equal(tags, []string{"faas-benchmarker", "fb-permanent", "team-a", OrchestratorTag}) {
		t.Errorf("droplet tags = %v", tags)
	}
	if keys := stacktest.ToStrings(in["sshKeys"]); !slices.Equal(keys, []string{"aa:bb:cc"}) {
		t.Errorf("droplet ssh keys = %v", keys)
	}

	fw := stacktest.Plain(m.OfType(typeFirewall)[0])
	if !slices.Equal(stacktest.ToStrings(fw["tags"]), []string{OrchestratorTag}) {
		t.Errorf("firewall targets %v", fw["tags"])
	}
	inbound := fw["inboundRules"].([]any)
	if len(inbound) != 1 {
		t.Fatalf("inbound rules = %v, want only SSH", inbound)
	}
	rule := inbound[0].(map[string]any)
	if rule["protocol"] != "tcp" || rule["portRange"] != "22" ||
		!slices.Equal(stacktest.ToStrings(rule["sourceAddresses"]), []string{"203.0.113.7/32", "2001:db8::/64"}) {
		t.Errorf("inbound rule = %v", rule)
	}

	if outs[stackcfg.OutDropletIP].V != "198.51.100.20" || outs[stackcfg.OutDropletID].V == "" || outs[stackcfg.OutStudyFile].V != "" || outs[stackcfg.OutBucketName].V != "fb-results-1a2b3c" ||
		outs[stackcfg.OutSpacesEndpoint].V != "https://fra1.digitaloceanspaces.com" || outs[stackcfg.OutSpacesRegion].V != "fra1" {
		t.Errorf("outputs = %v", outs)
	}
	if got := outs[stackcfg.OutStateBackendURL].V; got != "s3://fb-results-1a2b3c?endpoint=https://fra1.digitaloceanspaces.com&region=us-east-1&s3ForcePathStyle=true&profile=fb-spaces" {
		t.Errorf("backend url = %v", got)
	}
}

func TestOverrides(t *testing.T) {
	m, outs := run(t, config(t, "region=ams3", "dropletSize=s-4vcpu-8gb", "bucketName=my-results", "protectBucket=false"))
	d := stacktest.Plain(m.OfType(typeDroplet)[0])
	if d["region"] != "ams3" || d["size"] != "s-4vcpu-8gb" {
		t.Errorf("droplet = %v", d)
	}
	b := m.OfType(typeBucket)[0]
	if stacktest.Str(t, b, "name") != "my-results" || b.Protect {
		t.Errorf("bucket name/protect = %v/%v", stacktest.Plain(b)["name"], b.Protect)
	}
	if outs[stackcfg.OutSpacesEndpoint].V != "https://ams3.digitaloceanspaces.com" {
		t.Errorf("endpoint = %v", outs[stackcfg.OutSpacesEndpoint].V)
	}
}

func TestCloudInit(t *testing.T) {
	m, _ := run(t, config(t))
	ud := stacktest.Str(t, m.OfType(typeDroplet)[0], "userData")
	if !strings.HasPrefix(ud, "#cloud-config\n") {
		t.Fatal("user data is not cloud-config")
	}
	var doc struct {
		Packages []string `yaml:"packages"`
		Users    []struct {
			Name string   `yaml:"name"`
			Keys []string `yaml:"ssh_authorized_keys"`
		} `yaml:"users"`
		WriteFiles []struct {
			Path    string `yaml:"path"`
			Content string `yaml:"content"`
		} `yaml:"write_files"`
		Runcmd []string `yaml:"runcmd"`
	}
	if err := yaml.Unmarshal([]byte(ud), &doc); err != nil {
		t.Fatalf("user data is not YAML: %v\n%s", err, ud)
	}
	if len(doc.Users) != 1 || doc.Users[0].Name != "fb" || !slices.Equal(doc.Users[0].Keys, []string{testKey}) {
		t.Errorf("users = %+v", doc.Users)
	}
	cmds := strings.Join(doc.Runcmd, "\n")
	if strings.Contains(cmds, "go install") || strings.Contains(cmds, "go.dev/dl") {
		t.Errorf("cloud-init still compiles fbrun on the droplet:\n%s", cmds)
	}
	for _, want := range []string{
		"--version 3.274.1",
		// The openfaas stack needs kubectl (pulumi-eks) and the AWS CLI
		// (aws eks get-token in the kubeconfig) on the orchestrator.
		"https://dl.k8s.io/release/v1.34.2/bin/linux/amd64/kubectl -o /usr/local/bin/kubectl",
		"awscli-exe-linux-x86_64.zip", "/tmp/aws/install",
	} {
		if !strings.Contains(cmds, want) {
			t.Errorf("runcmd lacks %q:\n%s", want, cmds)
		}
	}
	var env string
	for _, f := range doc.WriteFiles {
		if f.Path == "/etc/faas-benchmarker/env" {
			env = f.Content
		}
	}
	if !strings.Contains(env, "FB_RESULTS_BUCKET=fb-results-1a2b3c\n") || !strings.Contains(env, "PULUMI_BACKEND_URL=s3://fb-results-1a2b3c?") {
		t.Errorf("env file = %q", env)
	}
	for _, secret := range []string{"SECRET", "TOKEN", "PASSWORD"} {
		if strings.Contains(strings.ToUpper(ud), secret) {
			t.Errorf("user data mentions %s; credentials must not go in user data", secret)
		}
	}
}

func TestInvalidConfigRejected(t *testing.T) {
	tests := []struct {
		name string
		cfg  func() stackcfg.Permanent
		want string
	}{
		{"no ssh key or cidr", stackcfg.DefaultPermanent, "fb:sshPublicKey"},
		{"ssh open to all", func() stackcfg.Permanent {
			c := stackcfg.DefaultPermanent()
			c.SSHPublicKey, c.SSHCIDRs = testKey, []string{"0.0.0.0/0"}
			return c
		}, "whole internet"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := mocks()
			_, err := stacktest.Run(t, m, func(ctx *pulumi.Context) (map[string]pulumi.Output, error) {
				return Deploy(ctx, tt.cfg())
			})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
			if n := len(m.Resources()); n != 0 {
				t.Fatalf("%d resources registered", n)
			}
		})
	}
}

func TestProgram(t *testing.T) {
	m := mocks()
	if err := pulumi.RunErr(Program(config(t)), pulumi.WithMocks("fb", "test", m)); err != nil {
		t.Fatal(err)
	}
	if len(m.OfType(typeDroplet)) != 1 {
		t.Fatal("no droplet")
	}
}

// realKey and its MD5 fingerprint as `ssh-keygen -l -E md5` prints it.
const (
	realKey   = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAILM3rU0rXqdWH8LHQ9VbzIEF3y/ijEJrgJagTk56WSHv t"
	realKeyFP = "4a:76:81:fc:81:e3:ca:88:76:63:39:f3:2a:c6:fa:93"
)

// TestExistingSSHKey: a key already registered in the DigitalOcean account
// cannot be registered again (the API answers 422 "SSH Key is already in
// use on your account"), so with fb:sshKeyFingerprint the stack registers
// none and gives the droplet that fingerprint; a fingerprint of another
// key is refused before anything is created.
func TestExistingSSHKey(t *testing.T) {
	m, _ := run(t, config(t, "sshPublicKey="+realKey, "sshKeyFingerprint="+realKeyFP))
	if n := len(m.OfType("digitalocean:index/sshKey:SshKey")); n != 0 {
		t.Fatalf("%d SSH keys registered, want none", n)
	}
	d := stacktest.Plain(m.OfType(typeDroplet)[0])
	if !slices.Equal(stacktest.ToStrings(d["sshKeys"]), []string{realKeyFP}) {
		t.Errorf("droplet sshKeys = %v", d["sshKeys"])
	}
	c := stackcfg.DefaultPermanent()
	err := stackcfg.ApplyOverrides(&c, []string{"sshPublicKey=" + realKey, "sshCidrs=203.0.113.7/32",
		"sshKeyFingerprint=00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff"})
	if err == nil || !strings.Contains(err.Error(), "is not the fingerprint of fb:sshPublicKey ("+realKeyFP+")") {
		t.Fatalf("wrong fingerprint: %v", err)
	}
}

// TestDropletIgnoresUserDataChanges: the droplet ignores later changes of
// its user data, which the DigitalOcean provider would apply by replacing
// the droplet (user_data is ForceNew) and so lose the orchestrator's
// results, credentials and schedule.
func TestDropletIgnoresUserDataChanges(t *testing.T) {
	ignored := map[string][]string{}
	_, err := stacktest.Run(t, mocks(), func(ctx *pulumi.Context) (map[string]pulumi.Output, error) {
		if err := ctx.RegisterStackTransformation(func(a *pulumi.ResourceTransformationArgs) *pulumi.ResourceTransformationResult {
			if o, err := pulumi.NewResourceOptions(a.Opts...); err == nil {
				ignored[a.Type] = o.IgnoreChanges
			}
			return nil
		}); err != nil {
			return nil, err
		}
		return Deploy(ctx, config(t))
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := ignored[typeDroplet]; !slices.Equal(got, []string{"userData"}) {
		t.Errorf("droplet ignores changes of %v, want [userData]", got)
	}
}

// Package permanent is the long-lived DigitalOcean stack: a Spaces bucket
// for results (usable as the Pulumi state backend of the experiment
// stacks), the orchestrator droplet that runs fbrun unattended, its SSH key,
// a firewall that admits SSH only from the configured CIDRs, and tags.
package permanent

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"text/template"

	"github.com/pulumi/pulumi-digitalocean/sdk/v4/go/digitalocean"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/faas-benchmarker/faas-benchmarker/stacks/internal/exporting"
	"github.com/faas-benchmarker/faas-benchmarker/stacks/stackcfg"
)

// OrchestratorTag is the DigitalOcean tag the firewall applies to.
const OrchestratorTag = "fb-orchestrator"

// Program returns the Pulumi program of the stack for cfg.
func Program(cfg stackcfg.Permanent) pulumi.RunFunc {
	return exporting.Program(cfg, Deploy)
}

// Deploy validates cfg, declares the stack's resources and returns its
// outputs keyed by the stackcfg.Out* constants.
func Deploy(ctx *pulumi.Context, cfg stackcfg.Permanent) (map[string]pulumi.Output, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	tagNames := append(cfg.DOTags(), OrchestratorTag)
	tags := pulumi.StringArray{}
	for _, name := range tagNames {
		tag, err := digitalocean.NewTag(ctx, "tag-"+name, &digitalocean.TagArgs{Name: pulumi.String(name)})
		if err != nil {
			return nil, fmt.Errorf("permanent stack: tag %s: %w", name, err)
		}
		tags = append(tags, tag.Name)
	}

	bucketArgs := &digitalocean.SpacesBucketArgs{
		Region: pulumi.String(cfg.Region),
		Acl:    pulumi.String("private"),
	}
	if cfg.BucketName != "" {
		bucketArgs.Name = pulumi.String(cfg.BucketName)
	}
	bucket, err := digitalocean.NewSpacesBucket(ctx, "fb-results", bucketArgs, pulumi.Protect(cfg.ProtectBucket))
	if err != nil {
		return nil, fmt.Errorf("permanent stack: bucket: %w", err)
	}

	// A key already registered in the account is used by its fingerprint:
	// registering it again fails with 422 "SSH Key is already in use".
	var fingerprint pulumi.StringInput = pulumi.String(cfg.SSHKeyFingerprint)
	if cfg.SSHKeyFingerprint == "" {
		key, err := digitalocean.NewSshKey(ctx, "orchestrator", &digitalocean.SshKeyArgs{
			Name:      pulumi.String("faas-benchmarker-orchestrator"),
			PublicKey: pulumi.String(cfg.SSHPublicKey),
		})
		if err != nil {
			return nil, fmt.Errorf("permanent stack: ssh key: %w", err)
		}
		fingerprint = key.Fingerprint
	}

	userData := bucket.Name.ApplyT(func(name string) (string, error) {
		return CloudInit(cfg, name)
	}).(pulumi.StringOutput)
	droplet, err := digitalocean.NewDroplet(ctx, "orchestrator", &digitalocean.DropletArgs{
		Name:       pulumi.String("fb-orchestrator"),
		Region:     pulumi.String(cfg.Region),
		Size:       pulumi.String(cfg.DropletSize),
		Image:      pulumi.String(cfg.DropletImage),
		SshKeys:    pulumi.StringArray{fingerprint},
		Tags:       tags,
		UserData:   userData,
		Monitoring: pulumi.Bool(true),
		Ipv6:       pulumi.Bool(true),
	})
	if err != nil {
		return nil, fmt.Errorf("permanent stack: droplet: %w", err)
	}

	everywhere := pulumi.ToStringArray([]string{"0.0.0.0/0", "::/0"})
	if _, err := digitalocean.NewFirewall(ctx, "orchestrator", &digitalocean.FirewallArgs{
		Name: pulumi.String("fb-orchestrator"),
		Tags: pulumi.StringArray{pulumi.String(OrchestratorTag)},
		InboundRules: digitalocean.FirewallInboundRuleArray{
			&digitalocean.FirewallInboundRuleArgs{
				Protocol:        pulumi.String("tcp"),
				PortRange:       pulumi.String("22"),
				SourceAddresses: pulumi.ToStringArray(cfg.SSHCIDRs),
			},
		},
		OutboundRules: digitalocean.FirewallOutboundRuleArray{
			&digitalocean.FirewallOutboundRuleArgs{Protocol: pulumi.String("tcp"), PortRange: pulumi.String("1-65535"), DestinationAddresses: everywhere},
			&digitalocean.FirewallOutboundRuleArgs{Protocol: pulumi.String("udp"), PortRange: pulumi.String("1-65535"), DestinationAddresses: everywhere},
			&digitalocean.FirewallOutboundRuleArgs{Protocol: pulumi.String("icmp"), DestinationAddresses: everywhere},
		},
	}, pulumi.DependsOn([]pulumi.Resource{droplet})); err != nil {
		return nil, fmt.Errorf("permanent stack: firewall: %w", err)
	}

	return map[string]pulumi.Output{
		stackcfg.OutPlatform:       pulumi.String(string(stackcfg.PlatformPermanent)).ToStringOutput(),
		stackcfg.OutDropletIP:      droplet.Ipv4Address,
		stackcfg.OutBucketName:     bucket.Name,
		stackcfg.OutSpacesEndpoint: pulumi.String(cfg.SpacesEndpoint()).ToStringOutput(),
		stackcfg.OutSpacesRegion:   pulumi.String(cfg.Region).ToStringOutput(),
		stackcfg.OutStateBackendURL: bucket.Name.ApplyT(func(name string) string {
			return cfg.StateBackendURL(name)
		}).(pulumi.StringOutput),
	}, nil
}

// CloudInit renders the droplet's cloud-config: an unprivileged user fb
// with the SSH key, the Pulumi CLI, kubectl and the
// AWS CLI v2 (which the openfaas stack needs: pulumi-eks runs kubectl, and
// the cluster's kubeconfig runs aws eks get-token), and
// /etc/faas-benchmarker/env with the non-secret settings fbrun needs. The
// fbrun binaries are not built here: cloud-init waits for the prebuilt ones
// that `fbrun up permanent` copies (Binaries), then schedules the study.
// Credentials (Spaces keys, cloud accounts) are never put in user data,
// which any process on the droplet can read from the metadata service.
// With fb:study the study file is installed under StudyDir and scheduled
// (fbrun study schedule: a systemd timer and service).
func CloudInit(cfg stackcfg.Permanent, bucket string) (string, error) {
	study, err := studyInit(cfg)
	if err != nil {
		return "", err
	}
	var b bytes.Buffer
	err = cloudInit.Execute(&b, map[string]any{
		"Study":          study,
		"SSHPublicKey":   cfg.SSHPublicKey,
		"WaitBinaries":   waitBinaries(),
		"PulumiVersion":  cfg.PulumiVersion,
		"Bucket":         bucket,
		"SpacesEndpoint": cfg.SpacesEndpoint(),
		"SpacesRegion":   cfg.Region,
		"BackendURL":     cfg.StateBackendURL(bucket),
		"KubectlVersion": cfg.KubectlVersion,
	})
	if err != nil {
		return "", fmt.Errorf("permanent stack: cloud-init: %w", err)
	}
	return b.String(), nil
}

var cloudInit = template.Must(template.New("cloud-init").Parse(`#cloud-config
package_update: true
package_upgrade: true
packages: [ca-certificates, curl, git, jq, sqlite3, tmux, unzip]
users:
  - name: fb
    shell: /bin/bash
    groups: [sudo]
    sudo: "ALL=(ALL) NOPASSWD:ALL"
    ssh_authorized_keys:
      - {{printf "%q" .SSHPublicKey}}
write_files:
  - path: /etc/faas-benchmarker/env
    permissions: "0644"
    content: |
      FB_RESULTS_BUCKET={{.Bucket}}
      FB_SPACES_ENDPOINT={{.SpacesEndpoint}}
      FB_SPACES_REGION={{.SpacesRegion}}
      PULUMI_BACKEND_URL={{.BackendURL}}
      PULUMI_SKIP_UPDATE_CHECK=true
      PATH=/usr/local/bin:/usr/bin:/bin
  - path: /etc/profile.d/faas-benchmarker.sh
    permissions: "0644"
    content: |
      set -a; . /etc/faas-benchmarker/env; set +a
{{- with .Study}}
  # The study file (fb:study), scheduled by the last runcmd. Its cells'
  # credentials are NOT here: they go in the root-only
  # /etc/faas-benchmarker/credentials (docs/studies.md).
  - path: {{.Path}}
    permissions: "0644"
    encoding: b64
    content: {{.Content}}
{{- end}}
runcmd:
  - curl -fsSL https://get.pulumi.com | sh -s -- --version {{.PulumiVersion}} --install-root /opt/pulumi --no-edit-path
  - ln -sf /opt/pulumi/bin/* /usr/local/bin/
  - curl -fsSL https://dl.k8s.io/release/v{{.KubectlVersion}}/bin/linux/amd64/kubectl -o /usr/local/bin/kubectl && chmod 0755 /usr/local/bin/kubectl
  - curl -fsSL https://awscli.amazonaws.com/awscli-exe-linux-x86_64.zip -o /tmp/awscliv2.zip && unzip -q /tmp/awscliv2.zip -d /tmp && /tmp/aws/install && rm -rf /tmp/aws /tmp/awscliv2.zip
  - mkdir -p /var/lib/faas-benchmarker && chown fb:fb /var/lib/faas-benchmarker
  # fbrun, fbrun-cloud and fbrun-lab are prebuilt: fbrun up permanent copies them
  # over SSH (compiling the cloud SDKs on a 4 GB droplet without swap can run
  # out of memory). Wait for them, at most 30 minutes, then fail loudly.
  - {{printf "%q" .WaitBinaries}}
{{- with .Study}}
  - {{printf "%q" .Schedule}}
{{- end}}
`))

// studyFiles is the study part of the cloud-init: where the study file
// goes and the command that schedules it.
type studyFiles struct {
	Path, Content, Schedule string
}

// studyInit reads the fb:study file and returns what cloud-init needs to
// install and schedule it (nil without a study).
func studyInit(cfg stackcfg.Permanent) (*studyFiles, error) {
	if cfg.Study == "" {
		return nil, nil
	}
	src, err := os.ReadFile(cfg.Study)
	if err != nil {
		return nil, fmt.Errorf("permanent stack: study file: %w", err)
	}
	path := StudyDir + "/" + filepath.Base(cfg.Study)
	// The service it installs reads PULUMI_BACKEND_URL from the env file
	// above, so every cell finds the permanent stack's bucket and ships
	// its results there.
	sched := "/usr/local/bin/fbrun --db /var/lib/faas-benchmarker/results.db study schedule " + path
	return &studyFiles{Path: path, Content: base64.StdEncoding.EncodeToString(src), Schedule: sched}, nil
}

// BinDir is where the orchestrator's fbrun binaries are installed.
const BinDir = "/usr/local/bin"

// Binaries are the prebuilt linux/amd64 binaries `fbrun up permanent`
// copies to BinDir; then it writes ReadyMarker, for which cloud-init waits
// before it schedules a study.
var Binaries = []string{"fbrun", "fbrun-cloud", "fbrun-lab"}

// ReadyMarker is the file `fbrun up permanent` writes into BinDir once every
// binary is in place.
const ReadyMarker = ".fbrun-binaries-ready"

// waitBinaries is the cloud-init command that waits for the binaries.
func waitBinaries() string {
	check := ""
	for _, b := range Binaries {
		check += fmt.Sprintf(" [ -x %s/%s ] || { echo 'faas-benchmarker: %s/%s was never copied (fbrun up permanent copies it)' >&2; exit 1; };",
			BinDir, b, BinDir, b)
	}
	return fmt.Sprintf("for i in $(seq 360); do [ -e %s/%s ] && break; sleep 5; done;%s", BinDir, ReadyMarker, check)
}

// StudyDir is where the orchestrator keeps study files.
const StudyDir = "/etc/faas-benchmarker/studies"

// Package permanent is the long-lived DigitalOcean stack: a Spaces bucket
// for results (usable as the Pulumi state backend of the experiment
// stacks), the orchestrator droplet that runs fbrun unattended, its SSH key,
// a firewall that admits SSH only from the configured CIDRs, and tags.
package permanent

import (
	"bytes"
	"fmt"
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
		// A change of user data would replace the droplet (the provider
		// marks user_data ForceNew; cloud-init runs it only at first boot
		// anyway), losing the orchestrator's results database, credentials
		// and schedule: a new sshPublicKey, pulumiVersion or an fbrun
		// upgrade must never do that. What changes is copied over SSH by
		// fbrun up permanent (runner.ProvisionOrchestrator).
	}, pulumi.IgnoreChanges([]string{"userData"}))
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
		stackcfg.OutDropletID:      droplet.ID().ToStringOutput(),
		stackcfg.OutStudyFile:      pulumi.String(cfg.Study).ToStringOutput(),
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
// /etc/faas-benchmarker/env with the non-secret settings fbrun needs.
// The fbrun binaries (Binaries) and the study file (fb:study) are NOT
// here but copied over SSH by `fbrun up permanent`
// (runner.ProvisionOrchestrator), every time it runs, so a failed first
// `up` is finished by running it again and a new study file updates the
// droplet in place. The user data is used at the droplet's first boot
// only, and its later changes are ignored (IgnoreChanges): the DigitalOcean
// provider marks user_data ForceNew, and a replaced droplet would lose the
// orchestrator's results database, credentials and schedule. So a new
// fb:pulumiVersion, fb:kubectlVersion or sshPublicKey reaches only a new
// droplet.
// Credentials (Spaces keys, cloud accounts) are never put in user data,
// which any process on the droplet can read from the metadata service.
func CloudInit(cfg stackcfg.Permanent, bucket string) (string, error) {
	var b bytes.Buffer
	err := cloudInit.Execute(&b, map[string]any{
		"SSHPublicKey":   cfg.SSHPublicKey,
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
runcmd:
  - curl -fsSL https://get.pulumi.com | sh -s -- --version {{.PulumiVersion}} --install-root /opt/pulumi --no-edit-path
  - ln -sf /opt/pulumi/bin/* /usr/local/bin/
  - curl -fsSL https://dl.k8s.io/release/v{{.KubectlVersion}}/bin/linux/amd64/kubectl -o /usr/local/bin/kubectl && chmod 0755 /usr/local/bin/kubectl
  - curl -fsSL https://awscli.amazonaws.com/awscli-exe-linux-x86_64.zip -o /tmp/awscliv2.zip && unzip -q /tmp/awscliv2.zip -d /tmp && /tmp/aws/install && rm -rf /tmp/aws /tmp/awscliv2.zip
  - mkdir -p /var/lib/faas-benchmarker && chown fb:fb /var/lib/faas-benchmarker
  # fbrun, fbrun-cloud and fbrun-lab (prebuilt: compiling the cloud SDKs on a
  # 4 GB droplet without swap can run out of memory) and the study file come
  # over SSH from fbrun up permanent, which then schedules the study.
`))

// BinDir is where the orchestrator's fbrun binaries are installed.
const BinDir = "/usr/local/bin"

// Binaries are the prebuilt linux/amd64 binaries `fbrun up permanent`
// copies to BinDir.
var Binaries = []string{"fbrun", "fbrun-cloud", "fbrun-lab"}

// Tools are the programs cloud-init installs that fbrun runs on the
// orchestrator: the Pulumi CLI, kubectl and the AWS CLI (the openfaas
// stack's pulumi-eks runs kubectl, its kubeconfig runs aws eks get-token).
var Tools = []string{"pulumi", "kubectl", "aws"}

// StudyDir is where the orchestrator keeps study files.
const StudyDir = "/etc/faas-benchmarker/studies"

// ResultsDB is the orchestrator's results database.
const ResultsDB = "/var/lib/faas-benchmarker/results.db"

// StudyPath is where the study file studyFile (fb:study, a local path)
// goes on the orchestrator.
func StudyPath(studyFile string) string {
	return StudyDir + "/" + filepath.Base(studyFile)
}

// ScheduleCommand is the orchestrator command (run as root) that schedules
// the study file at remotePath: a systemd timer and service (fbrun study
// schedule, docs/studies.md), replaced when they exist, so running it
// again after a change of the file is what updates the schedule. The
// service reads PULUMI_BACKEND_URL from /etc/faas-benchmarker/env, so every
// cell finds the permanent stack's bucket and ships its results there.
func ScheduleCommand(remotePath string) string {
	return BinDir + "/fbrun --db " + ResultsDB + " study schedule " + remotePath
}

package stackcfg

import (
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

var (
	doRegionPattern = regexp.MustCompile(`^[a-z]{3}[0-9]$`)
	doTagPattern    = regexp.MustCompile(`^[a-zA-Z0-9:\-_]{1,255}$`)
	semverPattern   = regexp.MustCompile(`^v?[0-9]+\.[0-9]+(\.[0-9]+)?$`)
	bucketPattern   = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$`)
)

// Permanent configures the long-lived DigitalOcean stack: the results
// Spaces bucket, the orchestrator droplet that runs fbrun (the benchmark
// client), its SSH key and firewall.
type Permanent struct {
	// Region is the DigitalOcean region of the droplet and the bucket
	// (default fra1; it must offer Spaces).
	Region string
	// DropletSize is the orchestrator (client) size slug (default
	// s-2vcpu-4gb). Bigger clients sustain more concurrent requests.
	DropletSize string
	// DropletImage is the image slug (default ubuntu-24-04-x64).
	DropletImage string
	// SSHPublicKey is the public key installed on the droplet. Required.
	SSHPublicKey string
	// SSHCIDRs are the only sources allowed to reach port 22. Required.
	SSHCIDRs []string
	// BucketName fixes the Spaces bucket name; empty lets Pulumi add a
	// random suffix to "fb-results".
	BucketName string
	// ProtectBucket makes Pulumi refuse to delete the bucket (default true).
	ProtectBucket bool
	// GoVersion is the Go toolchain cloud-init installs to build fbrun
	// (default 1.26.6, the go.mod version).
	GoVersion string
	// FbrunVersion is the module version of fbrun to install (default latest).
	FbrunVersion string
	// PulumiVersion is the Pulumi CLI version to install (default 3.274.1).
	PulumiVersion string
	// Tags are extra DigitalOcean tags (DigitalOcean tags are names only).
	Tags []string
	// Study is the path of a study file (fbrun study, docs/studies.md)
	// that cloud-init installs on the orchestrator and schedules with
	// fbrun study schedule (default none).
	Study string
}

// MaxStudyFileBytes bounds a study file carried in the droplet's user data
// (DigitalOcean accepts at most 64 KiB of user data in all).
const MaxStudyFileBytes = 32 << 10

var studyFilePattern = regexp.MustCompile(`^[A-Za-z0-9._-]+\.ya?ml$`)

// DefaultPermanent returns the permanent stack defaults.
func DefaultPermanent() Permanent {
	return Permanent{
		Region:        "fra1",
		DropletSize:   "s-2vcpu-4gb",
		DropletImage:  "ubuntu-24-04-x64",
		ProtectBucket: true,
		GoVersion:     "1.26.6",
		FbrunVersion:  "latest",
		PulumiVersion: "3.274.1",
	}
}

// Platform implements Settings.
func (c *Permanent) Platform() Platform { return PlatformPermanent }

func (c *Permanent) fields() []field {
	return []field{
		{"region", `DigitalOcean region with Spaces (default "fra1")`, str(&c.Region)},
		{"dropletSize", `orchestrator/client droplet size slug (default "s-2vcpu-4gb")`, str(&c.DropletSize)},
		{"dropletImage", `droplet image slug (default "ubuntu-24-04-x64")`, str(&c.DropletImage)},
		{"sshPublicKey", `SSH public key for the droplet, required`, str(&c.SSHPublicKey)},
		{"sshCidrs", `comma-separated CIDRs allowed to SSH, required`, list(&c.SSHCIDRs)},
		{"bucketName", `Spaces bucket name (default: fb-results plus a random suffix)`, str(&c.BucketName)},
		{"protectBucket", `refuse to delete the results bucket (default true)`, boolean(&c.ProtectBucket)},
		{"goVersion", `Go toolchain installed to build fbrun (default "1.26.6")`, str(&c.GoVersion)},
		{"fbrunVersion", `fbrun module version to install (default "latest")`, str(&c.FbrunVersion)},
		{"pulumiVersion", `Pulumi CLI version installed on the droplet (default "3.274.1")`, str(&c.PulumiVersion)},
		{"tags", `extra DigitalOcean tags, comma-separated (default none)`, list(&c.Tags)},
		{"study", `study file to install and schedule on the orchestrator (default none)`, str(&c.Study)},
	}
}

// Keys implements Settings.
func (c *Permanent) Keys() []KeyDoc { return keyDocs(c.fields()) }

// Set implements Settings.
func (c *Permanent) Set(key, value string) error {
	return setField(c.Platform(), c.fields(), key, value)
}

// Validate implements Settings.
func (c *Permanent) Validate() error {
	var p problems
	if !doRegionPattern.MatchString(c.Region) {
		p.addf("region", "%q is not a DigitalOcean region slug (e.g. fra1)", c.Region)
	}
	if c.DropletSize == "" {
		p.addf("dropletSize", "must be set")
	}
	if c.DropletImage == "" {
		p.addf("dropletImage", "must be set")
	}
	if k := strings.Fields(c.SSHPublicKey); len(k) < 2 || !strings.HasPrefix(k[0], "ssh-") && !strings.HasPrefix(k[0], "ecdsa-") {
		p.addf("sshPublicKey", "must be an OpenSSH public key (ssh-ed25519 AAAA...)")
	}
	if len(c.SSHCIDRs) == 0 {
		p.addf("sshCidrs", "at least one CIDR is required (SSH is closed to everything else)")
	}
	for _, s := range c.SSHCIDRs {
		pfx, err := netip.ParsePrefix(s)
		switch {
		case err != nil:
			p.addf("sshCidrs", "%q is not a CIDR", s)
		case pfx.Bits() == 0:
			p.addf("sshCidrs", "%q would open SSH to the whole internet", s)
		}
	}
	if c.BucketName != "" && !bucketPattern.MatchString(c.BucketName) {
		p.addf("bucketName", "%q is not a valid bucket name", c.BucketName)
	}
	if !semverPattern.MatchString(c.GoVersion) {
		p.addf("goVersion", "%q is not a version like 1.26.6", c.GoVersion)
	}
	if c.FbrunVersion != "latest" && !semverPattern.MatchString(c.FbrunVersion) {
		p.addf("fbrunVersion", "%q must be latest or a version like v0.3.0", c.FbrunVersion)
	}
	if !semverPattern.MatchString(c.PulumiVersion) {
		p.addf("pulumiVersion", "%q is not a version like 3.274.1", c.PulumiVersion)
	}
	for _, t := range c.Tags {
		if !doTagPattern.MatchString(t) {
			p.addf("tags", "%q is not a DigitalOcean tag (letters, digits, : - _)", t)
		}
	}
	if c.Study != "" {
		if !studyFilePattern.MatchString(filepath.Base(c.Study)) {
			p.addf("study", "%q: the file name must be letters, digits, . _ - and end in .yaml or .yml", c.Study)
		} else if st, err := os.Stat(c.Study); err != nil {
			p.addf("study", "%v", err)
		} else if st.Size() > MaxStudyFileBytes {
			p.addf("study", "%s is %d bytes: at most %d fit in the droplet's user data", c.Study, st.Size(), MaxStudyFileBytes)
		}
	}
	return p.err(c.Platform())
}

// DOTags returns the DigitalOcean tags of every permanent resource.
func (c Permanent) DOTags() []string {
	return append([]string{ManagedByValue, "fb-permanent"}, c.Tags...)
}

// SpacesEndpoint is the S3-compatible endpoint of the region's Spaces.
func (c Permanent) SpacesEndpoint() string {
	return "https://" + c.Region + ".digitaloceanspaces.com"
}

// StateBackendURL is the Pulumi DIY-backend URL that keeps stack state in
// bucket, under the .pulumi/ prefix Pulumi uses (credentials from
// AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY set to a Spaces access key).
func (c Permanent) StateBackendURL(bucket string) string {
	return "s3://" + bucket + "?endpoint=" + c.Region +
		".digitaloceanspaces.com&region=us-east-1&s3ForcePathStyle=true"
}

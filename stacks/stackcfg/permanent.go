package stackcfg

import (
	"crypto/md5"
	"encoding/base64"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

var (
	doRegionPattern = regexp.MustCompile(`^[a-z]{3}[0-9]$`)
	// Lengths are checked apart: a counted repetition such as {1,255} is
	// compiled into that many instructions, which every fbrun start (and
	// every lab instance re-executing fbrun) paid for at init.
	doTagPattern  = regexp.MustCompile(`^[a-zA-Z0-9:\-_]+$`)
	semverPattern = regexp.MustCompile(`^v?[0-9]+\.[0-9]+(\.[0-9]+)?$`)
	bucketPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]+[a-z0-9]$`)
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
	// SSHKeyFingerprint names a key already registered in the DigitalOcean
	// account (its MD5 fingerprint, aa:bb:...); the stack then uses it
	// instead of registering SSHPublicKey again, which DigitalOcean refuses
	// with 422 "SSH Key is already in use on your account". It must be the
	// fingerprint of SSHPublicKey (which cloud-init still installs for the
	// fb user).
	SSHKeyFingerprint string
	// SSHCIDRs are the only sources allowed to reach port 22. Required.
	SSHCIDRs []string
	// BucketName fixes the Spaces bucket name; empty lets Pulumi add a
	// random suffix to "fb-results".
	BucketName string
	// ProtectBucket makes Pulumi refuse to delete the bucket (default true).
	ProtectBucket bool
	// PulumiVersion is the Pulumi CLI version to install (default 3.274.1).
	PulumiVersion string
	// KubectlVersion is the kubectl cloud-init installs (default 1.34.2):
	// the openfaas stack's pulumi-eks runs kubectl, and its kubeconfig
	// runs the AWS CLI (installed too, the current v2).
	KubectlVersion string
	// Tags are extra DigitalOcean tags (DigitalOcean tags are names only).
	Tags []string
	// Study is the path of a study file (fbrun study, docs/studies.md)
	// that fbrun up permanent copies to the orchestrator and schedules
	// with fbrun study schedule (default none).
	Study string
}

// MaxStudyFileBytes bounds a study file: one is a few hundred bytes of
// platforms, experiments and a schedule, so a larger file is the wrong file.
const MaxStudyFileBytes = 32 << 10

var studyFilePattern = regexp.MustCompile(`^[A-Za-z0-9._-]+\.ya?ml$`)

// DefaultPermanent returns the permanent stack defaults.
func DefaultPermanent() Permanent {
	return Permanent{
		Region:        "fra1",
		DropletSize:   "s-2vcpu-4gb",
		DropletImage:  "ubuntu-24-04-x64",
		ProtectBucket: true,
		PulumiVersion: "3.274.1",

		KubectlVersion: "1.34.2",
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
		{"sshKeyFingerprint", `use this already registered DigitalOcean SSH key (MD5 fingerprint of sshPublicKey) instead of registering it (default: register)`, str(&c.SSHKeyFingerprint)},
		{"kubectlVersion", `kubectl installed on the droplet for the openfaas stack (default "1.34.2")`, str(&c.KubectlVersion)},
		{"bucketName", `Spaces bucket name (default: fb-results plus a random suffix)`, str(&c.BucketName)},
		{"protectBucket", `refuse to delete the results bucket (default true)`, boolean(&c.ProtectBucket)},
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
	if c.SSHKeyFingerprint != "" {
		fp, err := SSHFingerprintMD5(c.SSHPublicKey)
		switch {
		case !md5FingerprintPattern.MatchString(c.SSHKeyFingerprint):
			p.addf("sshKeyFingerprint", "%q is not an MD5 fingerprint like 3b:16:bf:...", c.SSHKeyFingerprint)
		case err == nil && fp != strings.ToLower(c.SSHKeyFingerprint):
			p.addf("sshKeyFingerprint", "%s is not the fingerprint of fb:sshPublicKey (%s)", c.SSHKeyFingerprint, fp)
		}
	}
	if !semverPattern.MatchString(c.KubectlVersion) {
		p.addf("kubectlVersion", "%q is not a version like 1.34.2", c.KubectlVersion)
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
	if c.BucketName != "" && (len(c.BucketName) > 63 || !bucketPattern.MatchString(c.BucketName)) {
		p.addf("bucketName", "%q is not a valid bucket name", c.BucketName)
	}
	if !semverPattern.MatchString(c.PulumiVersion) {
		p.addf("pulumiVersion", "%q is not a version like 3.274.1", c.PulumiVersion)
	}
	for _, t := range c.Tags {
		if len(t) > 255 || !doTagPattern.MatchString(t) {
			p.addf("tags", "%q is not a DigitalOcean tag (letters, digits, : - _)", t)
		}
	}
	if c.Study != "" {
		if !studyFilePattern.MatchString(filepath.Base(c.Study)) {
			p.addf("study", "%q: the file name must be letters, digits, . _ - and end in .yaml or .yml", c.Study)
		} else if st, err := os.Stat(c.Study); err != nil {
			p.addf("study", "%v", err)
		} else if st.Size() > MaxStudyFileBytes {
			p.addf("study", "%s is %d bytes: a study file has at most %d (is it the right file?)", c.Study, st.Size(), MaxStudyFileBytes)
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

// SpacesProfile is the AWS shared-credentials profile the state backend
// URL names for the Spaces key pair. The backend (the Pulumi CLI's
// gocloud.dev s3blob on aws-sdk-go-v2) then reads that profile instead of
// AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, which stay free for the AWS
// account the Lambda and EKS stacks deploy to (a profile named in code
// wins over the environment's keys in aws-sdk-go-v2's credential chain).
// fbrun fills the profile from SPACES_ACCESS_KEY_ID/SPACES_SECRET_ACCESS_KEY
// for the Pulumi CLI only (runner: spacesCredentials); a user running the
// Pulumi CLI by hand defines it in ~/.aws/credentials.
const SpacesProfile = "fb-spaces"

// StateBackendURL is the Pulumi DIY-backend URL that keeps stack state in
// bucket, under the .pulumi/ prefix Pulumi uses, read with the
// SpacesProfile credentials: StateBackendURLFor the region's Spaces
// endpoint.
func (c Permanent) StateBackendURL(bucket string) string {
	return c.StateBackendURLFor(bucket, c.SpacesEndpoint())
}

// StateBackendURLFor is the state-backend URL of bucket at the
// S3-compatible endpoint (a full URL). The pinned Pulumi CLI opens s3://
// URLs with gocloud.dev's s3blob on aws-sdk-go-v2, which takes the
// endpoint as a base URL with its scheme (a bare host name is the AWS
// SDK v1 form), the legacy s3ForcePathStyle as use_path_style, and
// profile as the shared-credentials profile; the runner's tests use this
// exact shape against MinIO.
func (c Permanent) StateBackendURLFor(bucket, endpoint string) string {
	return "s3://" + bucket + "?endpoint=" + endpoint + "&region=us-east-1&s3ForcePathStyle=true&profile=" + SpacesProfile
}

var md5FingerprintPattern = regexp.MustCompile(`^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){15}$`)

// SSHFingerprintMD5 returns the MD5 fingerprint (aa:bb:...) of an OpenSSH
// public key, the form DigitalOcean identifies account keys by.
func SSHFingerprintMD5(publicKey string) (string, error) {
	f := strings.Fields(publicKey)
	if len(f) < 2 {
		return "", errors.New("not an OpenSSH public key")
	}
	blob, err := base64.StdEncoding.DecodeString(f[1])
	if err != nil {
		return "", fmt.Errorf("public key: %w", err)
	}
	sum := md5.Sum(blob)
	parts := make([]string, len(sum))
	for i, b := range sum {
		parts[i] = fmt.Sprintf("%02x", b)
	}
	return strings.Join(parts, ":"), nil
}

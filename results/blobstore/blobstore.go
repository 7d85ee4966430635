// Package blobstore ships faas-benchmarker result files to S3-compatible
// object storage — DigitalOcean Spaces by default, AWS S3, or any
// S3-compatible server such as MinIO by endpoint — and fetches them back.
//
// Every object carries the SHA-256 of its content in its metadata
// (x-amz-meta-sha256); where the server supports S3 additional checksums
// the upload also sends x-amz-checksum-sha256 so the server verifies the
// body. Downloads are verified against the SHA-256 before the file is
// moved into place, so a partial or corrupt download never replaces a good
// local file. Nothing here ever deletes a local file.
package blobstore

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

// MetaSHA256 is the object metadata key holding the hex SHA-256 of the
// object's content.
const MetaSHA256 = "sha256"

// DefaultSpacesRegion is the Spaces region used when none is configured.
const DefaultSpacesRegion = "nyc3"

// SpacesEndpoint returns the DigitalOcean Spaces endpoint of a region,
// e.g. https://nyc3.digitaloceanspaces.com.
func SpacesEndpoint(region string) string {
	return "https://" + region + ".digitaloceanspaces.com"
}

// Config configures a Store.
type Config struct {
	// Bucket is the bucket (Space) name. Required.
	Bucket string
	// Endpoint is the S3 API endpoint, e.g. SpacesEndpoint("nyc3") or
	// http://127.0.0.1:9000 for MinIO. Empty means AWS S3.
	Endpoint string
	// Region is the signing region (AWS region; Spaces and MinIO accept
	// "us-east-1"). Empty means "us-east-1".
	Region string
	// AccessKeyID and SecretAccessKey are static credentials. When empty,
	// the AWS default credential chain is used (AWS_ACCESS_KEY_ID,
	// AWS_SECRET_ACCESS_KEY, ~/.aws, ...).
	AccessKeyID     string
	SecretAccessKey string
	// UsePathStyle addresses buckets as <endpoint>/<bucket> (MinIO)
	// instead of <bucket>.<endpoint>.
	UsePathStyle bool
	// NoServerChecksum stops sending x-amz-checksum-sha256 and the SDK's
	// default CRC checksums, for servers that reject them. The SHA-256 in
	// the metadata is still written and verified on download.
	NoServerChecksum bool
	// HTTPClient overrides the HTTP client.
	HTTPClient *http.Client
}

// Object describes a stored object.
type Object struct {
	// Key is the object key.
	Key string
	// Size is the content length in bytes.
	Size int64
	// SHA256 is the hex SHA-256 of the content ("" when not yet known).
	SHA256 string
	// Location is s3://<bucket>/<key> (plus the endpoint when not AWS).
	Location string
}

// Store uploads and downloads objects of one bucket.
type Store struct {
	cfg    Config
	client *s3.Client
}

// New returns a Store for cfg.
func New(ctx context.Context, cfg Config) (*Store, error) {
	if cfg.Bucket == "" {
		return nil, errors.New("blobstore: bucket is empty")
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	var loadOpts []func(*awsconfig.LoadOptions) error
	loadOpts = append(loadOpts, awsconfig.WithRegion(cfg.Region))
	if cfg.AccessKeyID != "" || cfg.SecretAccessKey != "" {
		loadOpts = append(loadOpts, awsconfig.WithCredentialsProvider(
			credentials.NewStaticCredentialsProvider(cfg.AccessKeyID, cfg.SecretAccessKey, "")))
	}
	if cfg.HTTPClient != nil {
		loadOpts = append(loadOpts, awsconfig.WithHTTPClient(cfg.HTTPClient))
	}
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx, loadOpts...)
	if err != nil {
		return nil, fmt.Errorf("blobstore: aws config: %w", err)
	}
	client := s3.NewFromConfig(awsCfg, func(o *s3.Options) {
		if cfg.Endpoint != "" {
			o.BaseEndpoint = aws.String(cfg.Endpoint)
		}
		o.UsePathStyle = cfg.UsePathStyle
		if cfg.NoServerChecksum {
			o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
			o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
		}
	})
	return &Store{cfg: cfg, client: client}, nil
}

// Location returns where key lives, for messages.
func (s *Store) Location(key string) string {
	loc := "s3://" + s.cfg.Bucket + "/" + key
	if s.cfg.Endpoint != "" {
		loc += " (" + s.cfg.Endpoint + ")"
	}
	return loc
}

// EnsureBucket creates the bucket when it does not exist yet.
func (s *Store) EnsureBucket(ctx context.Context) error {
	_, err := s.client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(s.cfg.Bucket)})
	if err == nil {
		return nil
	}
	_, err = s.client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(s.cfg.Bucket)})
	var owned *types.BucketAlreadyOwnedByYou
	if err != nil && !errors.As(err, &owned) {
		return fmt.Errorf("blobstore: create bucket %s: %w", s.cfg.Bucket, err)
	}
	return nil
}

// FileSHA256 returns the hex SHA-256 and the size of the file at p.
func FileSHA256(p string) (string, int64, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, err
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// Upload stores the file at p under key with its SHA-256, then checks the
// stored object's size and checksum. The local file is left untouched
// whatever happens.
func (s *Store) Upload(ctx context.Context, key, p string) (Object, error) {
	sum, size, err := FileSHA256(p)
	if err != nil {
		return Object{}, fmt.Errorf("blobstore: upload %s: %w", p, err)
	}
	f, err := os.Open(p)
	if err != nil {
		return Object{}, fmt.Errorf("blobstore: upload %s: %w", p, err)
	}
	defer f.Close()
	in := &s3.PutObjectInput{
		Bucket:        aws.String(s.cfg.Bucket),
		Key:           aws.String(key),
		Body:          f,
		ContentLength: aws.Int64(size),
		ContentType:   aws.String("application/vnd.sqlite3"),
		Metadata:      map[string]string{MetaSHA256: sum},
	}
	if !s.cfg.NoServerChecksum {
		raw, _ := hex.DecodeString(sum)
		in.ChecksumAlgorithm = types.ChecksumAlgorithmSha256
		in.ChecksumSHA256 = aws.String(base64.StdEncoding.EncodeToString(raw))
	}
	if _, err := s.client.PutObject(ctx, in); err != nil {
		return Object{}, fmt.Errorf("blobstore: upload %s to %s: %w", p, s.Location(key), err)
	}
	got, err := s.Stat(ctx, key)
	if err != nil {
		return Object{}, fmt.Errorf("blobstore: check upload of %s: %w", key, err)
	}
	if got.Size != size || got.SHA256 != sum {
		return Object{}, fmt.Errorf("blobstore: upload of %s: stored object has size %d sha256 %s, want %d %s",
			key, got.Size, got.SHA256, size, sum)
	}
	return got, nil
}

// Ship uploads the file at p under key and returns its location; it makes
// Store a runner.Shipper.
func (s *Store) Ship(ctx context.Context, key, p string) (string, error) {
	o, err := s.Upload(ctx, key, p)
	if err != nil {
		return "", err
	}
	return o.Location + " sha256=" + o.SHA256, nil
}

// Stat returns an object's size and SHA-256 metadata.
func (s *Store) Stat(ctx context.Context, key string) (Object, error) {
	h, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(s.cfg.Bucket), Key: aws.String(key)})
	if err != nil {
		return Object{}, fmt.Errorf("blobstore: stat %s: %w", s.Location(key), err)
	}
	return Object{Key: key, Size: aws.ToInt64(h.ContentLength), SHA256: h.Metadata[MetaSHA256], Location: s.Location(key)}, nil
}

// List returns the objects whose keys start with prefix, in key order.
// SHA256 is not filled in (use Stat).
func (s *Store) List(ctx context.Context, prefix string) ([]Object, error) {
	var out []Object
	p := s3.NewListObjectsV2Paginator(s.client, &s3.ListObjectsV2Input{
		Bucket: aws.String(s.cfg.Bucket), Prefix: aws.String(prefix),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("blobstore: list %s: %w", s.Location(prefix), err)
		}
		for _, o := range page.Contents {
			k := aws.ToString(o.Key)
			out = append(out, Object{Key: k, Size: aws.ToInt64(o.Size), Location: s.Location(k)})
		}
	}
	return out, nil
}

// ErrChecksum is wrapped into errors about content that does not match its
// SHA-256.
var ErrChecksum = errors.New("checksum mismatch")

// Download fetches key into the file dest, verifying its SHA-256 first:
// the content goes to a temporary file beside dest that replaces dest only
// when it matches.
func (s *Store) Download(ctx context.Context, key, dest string) (Object, error) {
	in := &s3.GetObjectInput{Bucket: aws.String(s.cfg.Bucket), Key: aws.String(key)}
	if !s.cfg.NoServerChecksum {
		in.ChecksumMode = types.ChecksumModeEnabled
	}
	res, err := s.client.GetObject(ctx, in)
	if err != nil {
		return Object{}, fmt.Errorf("blobstore: download %s: %w", s.Location(key), err)
	}
	defer res.Body.Close()
	want := res.Metadata[MetaSHA256]
	if want == "" {
		return Object{}, fmt.Errorf("blobstore: download %s: object has no %s metadata (not uploaded by faas-benchmarker?)",
			s.Location(key), MetaSHA256)
	}
	if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
		return Object{}, fmt.Errorf("blobstore: download %s: %w", key, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(dest), "."+filepath.Base(dest)+".part-*")
	if err != nil {
		return Object{}, fmt.Errorf("blobstore: download %s: %w", key, err)
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(tmp, h), res.Body)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return Object{}, fmt.Errorf("blobstore: download %s: %w", s.Location(key), err)
	}
	got := hex.EncodeToString(h.Sum(nil))
	if got != want {
		return Object{}, fmt.Errorf("blobstore: download %s: %w: content sha256 %s, metadata says %s",
			s.Location(key), ErrChecksum, got, want)
	}
	if err := os.Rename(tmp.Name(), dest); err != nil {
		return Object{}, fmt.Errorf("blobstore: download %s: %w", key, err)
	}
	return Object{Key: key, Size: n, SHA256: got, Location: s.Location(key)}, nil
}

// Pulled is one object handled by Pull.
type Pulled struct {
	Object
	// Path is the local file.
	Path string
	// Downloaded is false when an identical local file already existed.
	Downloaded bool
}

// Pull downloads every object under prefix into dir (file name = the
// key's last element), skipping objects whose local copy already has the
// same SHA-256. It returns every object with its local path, so the caller
// can merge them all (merging must be idempotent: a pulled file may have
// been merged before).
func (s *Store) Pull(ctx context.Context, prefix, dir string) ([]Pulled, error) {
	objs, err := s.List(ctx, prefix)
	if err != nil {
		return nil, err
	}
	var out []Pulled
	for _, o := range objs {
		if strings.HasSuffix(o.Key, "/") {
			continue
		}
		dest := filepath.Join(dir, path.Base(o.Key))
		st, err := s.Stat(ctx, o.Key)
		if err != nil {
			return out, err
		}
		if sum, _, err := FileSHA256(dest); err == nil && st.SHA256 != "" && sum == st.SHA256 {
			out = append(out, Pulled{Object: st, Path: dest})
			continue
		}
		got, err := s.Download(ctx, o.Key, dest)
		if err != nil {
			return out, err
		}
		out = append(out, Pulled{Object: got, Path: dest, Downloaded: true})
	}
	return out, nil
}

// IsAuthError reports whether err is the server refusing the credentials
// (bad access key or signature).
func IsAuthError(err error) bool {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return false
	}
	switch ae.ErrorCode() {
	case "SignatureDoesNotMatch", "InvalidAccessKeyId", "AccessDenied", "InvalidToken", "Forbidden":
		return true
	}
	return false
}

// DeleteAll deletes every object under prefix ("" for the whole bucket)
// and returns how many it deleted. `fbrun down permanent --empty-bucket`
// uses it: a Spaces bucket that still holds objects cannot be deleted.
func (s *Store) DeleteAll(ctx context.Context, prefix string) (int, error) {
	objs, err := s.List(ctx, prefix)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, o := range objs {
		if _, err := s.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(s.cfg.Bucket), Key: aws.String(o.Key)}); err != nil {
			return n, fmt.Errorf("blobstore: delete %s: %w", o.Location, err)
		}
		n++
	}
	return n, nil
}

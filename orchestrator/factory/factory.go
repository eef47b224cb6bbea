// Package factory turns a tenant's assembly into an image: the build
// context (generated Dockerfile, components, uploads, model) and a
// content-addressed build through the runtime, never twice for the same
// assembly.
package factory

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"path"
	"slices"
	"sort"
	"strings"

	"golang.org/x/sync/singleflight"

	"appfactory/apperr"
)

// Image labels the factory sets on every tenant image.
const (
	LabelImageHash     = "appfactory.hash"
	LabelImageApp      = "appfactory.app"
	LabelImagePlatform = "appfactory.platform"
	LabelImageVersion  = "appfactory.version"
)

// hashLen is how many hex digits of the content hash the tag carries: 64
// bits, so two different assemblies never meet in practice.
const hashLen = 16

// BuildInput is everything a tenant image is made of.
type BuildInput struct {
	// AppID labels the image with the app that first built it (not hashed).
	AppID    string
	Platform string
	Version  string
	// BaseImage is the platform version's image, like appfactory/contentapp:1.0.
	BaseImage  string
	Components []ComponentInput
	Custom     []CustomInput
	// Model is the application model as JSON.
	Model json.RawMessage
}

// ComponentInput is a selected catalog component: its id, the environment it
// sets and the files it writes (absolute path in the image -> content).
type ComponentInput struct {
	ID    string
	Env   map[string]string
	Files map[string]string
}

// CustomInput is an uploaded custom component: its files go to
// /app/custom/<Name>/.
type CustomInput struct {
	Name  string
	Files []CustomFile
}

// CustomFile is a file of a custom component, at a path relative to the
// component's directory; Mode 0 means 0644.
type CustomFile struct {
	Path string
	Mode int64
	Data []byte
}

// BuildPlan is a generated build context and the tag its content gives.
type BuildPlan struct {
	Tag        string
	Hash       string
	BaseID     string
	Dockerfile string
	// Context is the tar of the build context (deterministic bytes).
	Context []byte
	Labels  map[string]string
}

// imageRuntime is what the factory needs of the engine.
type imageRuntime interface {
	ImageID(ctx context.Context, ref string) (id string, ok bool, err error)
	BuildImage(ctx context.Context, buildContext io.Reader, tags []string, labels map[string]string, out func(line string)) (string, error)
}

// Factory turns assemblies into tenant images, building each distinct
// assembly once: the tag is a hash of everything that goes in.
type Factory struct {
	rt imageRuntime
	// Labels are added to every image built (tests mark their images).
	Labels map[string]string
	group  singleflight.Group
}

// NewFactory returns a factory building through rt.
func NewFactory(rt imageRuntime) *Factory { return &Factory{rt: rt} }

// Plan generates the build context of in and its content-addressed tag.
// The base image must be on the host: its id is part of the hash, so a
// rebuilt platform image gives new tenant images.
func (f *Factory) Plan(ctx context.Context, in BuildInput) (*BuildPlan, error) {
	baseID, ok, err := f.rt.ImageID(ctx, in.BaseImage)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, apperr.New(apperr.Unavailable, "The platform image %s is not on this host; build it first (make images).", in.BaseImage)
	}
	dockerfile, bc, err := MakeContext(in)
	if err != nil {
		return nil, err
	}
	tarBytes, err := bc.Bytes()
	if err != nil {
		return nil, err
	}
	h := sha256.New()
	fmt.Fprintf(h, "appfactory-tenant-image/1\n%s\n", baseID)
	h.Write(tarBytes)
	sum := hex.EncodeToString(h.Sum(nil))[:hashLen]
	labels := map[string]string{
		LabelImageHash:     sum,
		LabelImageApp:      in.AppID,
		LabelImagePlatform: in.Platform,
		LabelImageVersion:  in.Version,
	}
	for k, v := range f.Labels {
		labels[k] = v
	}
	// The labels go in as one LABEL line of the Dockerfile, added after
	// hashing (they hold the hash): one build step, where the engine's
	// label option makes one step per label.
	dockerfile += labelLine(labels)
	if err := bc.Add("Dockerfile", 0, []byte(dockerfile)); err != nil {
		return nil, err
	}
	if tarBytes, err = bc.Bytes(); err != nil {
		return nil, err
	}
	return &BuildPlan{
		Tag:        ImageTag(in.Platform, sum),
		Hash:       sum,
		BaseID:     baseID,
		Dockerfile: dockerfile,
		Context:    tarBytes,
		Labels:     labels,
	}, nil
}

// labelLine is a Dockerfile LABEL instruction setting every label.
func labelLine(labels map[string]string) string {
	keys := make([]string, 0, len(labels))
	for k := range labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString("LABEL")
	for _, k := range keys {
		fmt.Fprintf(&b, " %s=%s", dockerfileQuote(k), dockerfileQuote(labels[k]))
	}
	b.WriteString("\n")
	return b.String()
}

// ImageTag is the tag of a tenant image of a platform with a content hash.
func ImageTag(platform, hash string) string {
	return "appfactory/tenant-" + platform + ":" + hash
}

// Build makes sure the plan's image exists: an image already tagged with the
// hash is reused (reused true), else it is built, each output line passed to
// out. Concurrent builds of one tag run once.
func (f *Factory) Build(ctx context.Context, p *BuildPlan, out func(line string)) (reused bool, err error) {
	if _, ok, err := f.rt.ImageID(ctx, p.Tag); err != nil {
		return false, err
	} else if ok {
		return true, nil
	}
	_, err, shared := f.group.Do(p.Tag, func() (any, error) {
		// Checked again: a build of the same tag may have just finished.
		if _, ok, err := f.rt.ImageID(ctx, p.Tag); err != nil || ok {
			return nil, err
		}
		_, err := f.rt.BuildImage(ctx, bytes.NewReader(p.Context), []string{p.Tag}, nil, out)
		return nil, err
	})
	if shared && out != nil && err == nil {
		out("Image " + p.Tag + " built by a concurrent deployment of the same assembly")
	}
	return false, err
}

// MakeContext generates the Dockerfile and the files of an assembly. All
// files go under rootfs/ and into the image with a single COPY, so the build
// has few steps whatever the number of files.
func MakeContext(in BuildInput) (string, *BuildContext, error) {
	if in.BaseImage == "" || strings.ContainsAny(in.BaseImage, " \t\r\n") {
		return "", nil, fmt.Errorf("build context: bad base image %q", in.BaseImage)
	}
	bc := NewBuildContext()
	env := map[string]string{}
	ids := make([]string, 0, len(in.Components))
	comps := slices.Clone(in.Components)
	sort.Slice(comps, func(i, j int) bool { return comps[i].ID < comps[j].ID })
	for _, c := range comps {
		ids = append(ids, c.ID)
		for k, v := range c.Env {
			if !validEnvName(k) {
				return "", nil, fmt.Errorf("component %s: bad variable name %q", c.ID, k)
			}
			env[k] = v
		}
		for p, content := range c.Files {
			clean := path.Clean(p)
			if !path.IsAbs(p) || clean == "/" {
				return "", nil, fmt.Errorf("component %s: file %q is not an absolute path", c.ID, p)
			}
			if err := bc.Add("rootfs"+clean, 0, []byte(content)); err != nil {
				return "", nil, fmt.Errorf("component %s: %w", c.ID, err)
			}
		}
	}
	for _, c := range in.Custom {
		dir := customDirName(c.Name)
		if dir == "" {
			return "", nil, fmt.Errorf("custom component %q: name gives no directory name", c.Name)
		}
		for _, f := range c.Files {
			rel := path.Clean(strings.TrimPrefix(f.Path, "/"))
			if rel == "." || rel == ".." || strings.HasPrefix(rel, "../") {
				return "", nil, fmt.Errorf("custom component %s: file %q is outside the component", c.Name, f.Path)
			}
			if err := bc.Add("rootfs/app/custom/"+dir+"/"+rel, f.Mode, f.Data); err != nil {
				return "", nil, fmt.Errorf("custom component %s: %w", c.Name, err)
			}
		}
	}
	model, err := canonicalJSON(in.Model)
	if err != nil {
		return "", nil, apperr.New(apperr.Invalid, "The application model is not valid JSON: %v", err)
	}
	compJSON, _ := json.Marshal(ids)
	// The factory's own files are added last: no component can replace them.
	if err := bc.Add("rootfs/app/config/model.json", 0, model); err != nil {
		return "", nil, err
	}
	if err := bc.Add("rootfs/app/config/components.json", 0, compJSON); err != nil {
		return "", nil, err
	}
	var df strings.Builder
	fmt.Fprintf(&df, "FROM %s\n", in.BaseImage)
	if len(env) > 0 {
		keys := make([]string, 0, len(env))
		for k := range env {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		df.WriteString("ENV")
		for _, k := range keys {
			fmt.Fprintf(&df, " %s=%s", k, dockerfileQuote(env[k]))
		}
		df.WriteString("\n")
	}
	df.WriteString("COPY rootfs/ /\n")
	if err := bc.Add("Dockerfile", 0, []byte(df.String())); err != nil {
		return "", nil, err
	}
	return df.String(), bc, nil
}

// canonicalJSON re-encodes JSON with sorted keys and no spaces, so equal
// models give equal bytes (and equal hashes); empty input is {}.
func canonicalJSON(raw json.RawMessage) ([]byte, error) {
	if len(bytes.TrimSpace(raw)) == 0 {
		return []byte("{}"), nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, fmt.Errorf("trailing data after the model")
	}
	return json.Marshal(v)
}

// dockerfileQuote writes an ENV value in double quotes, escaping what the
// Dockerfile parser would otherwise interpret (quotes, backslashes,
// variables, line breaks).
func dockerfileQuote(v string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range v {
		switch r {
		case '"', '\\', '$':
			b.WriteByte('\\')
			b.WriteRune(r)
		case '\n', '\r':
			b.WriteByte(' ')
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

func validEnvName(k string) bool {
	if k == "" {
		return false
	}
	for i, r := range k {
		if !(r == '_' || r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || i > 0 && r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// customDirName makes a custom component's name a safe directory name:
// letters, digits, dot, dash and underscore, at most 64 characters.
func customDirName(name string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(strings.TrimSpace(name)) {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.':
			b.WriteRune(r)
		case r == ' ':
			b.WriteByte('-')
		}
		if b.Len() == 64 {
			break
		}
	}
	s := strings.Trim(b.String(), ".-")
	if s == "" || s == "." || s == ".." {
		return ""
	}
	return s
}

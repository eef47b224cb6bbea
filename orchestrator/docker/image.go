package docker

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/build"
	"github.com/docker/docker/api/types/image"

	"appfactory/orchestrator/runtime"
)

// buildErrorLines is how many of the last output lines a runtime.BuildError keeps:
// enough to show the failing step and its command's output.
const buildErrorLines = 20

// ImageID returns the id of a local image; ok is false when there is none.
func (d *Docker) ImageID(ctx context.Context, ref string) (id string, ok bool, err error) {
	img, err := d.cli.ImageInspect(ctx, ref)
	if cerrdefs.IsNotFound(err) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("inspect image %s: %w", ref, err)
	}
	return img.ID, true, nil
}

// buildAttempts bounds the builds of one context when images vanish under
// the classic builder's cache lookup (see vanishedDuringBuild).
const buildAttempts = 3

// BuildImage builds a tar build context (Dockerfile at its root) with the
// classic builder, never pulling, and tags the result. Each output line goes
// to out (which may be nil). A failing build returns a *runtime.BuildError.
//
// The classic builder looks for a cached step among all the images that
// share the step's parent (for FROM scratch, every image without one) and
// fails with "unable to find image" when one of them is removed while it
// looks: another appfactory instance, or another test package, removing an
// unused tenant image built on the same platform. Nothing is wrong with the
// build then, so it runs again, a bounded number of times: a context that
// can seek (the factory's are in memory) is read again from where it
// started, any other is read into memory first.
func (d *Docker) BuildImage(ctx context.Context, buildContext io.Reader, tags []string, labels map[string]string, out func(line string)) (string, error) {
	rs, ok := buildContext.(io.ReadSeeker)
	if !ok {
		data, err := io.ReadAll(buildContext)
		if err != nil {
			return "", fmt.Errorf("build image %v: read the context: %w", tags, err)
		}
		rs = bytes.NewReader(data)
	}
	start, err := rs.Seek(0, io.SeekCurrent)
	if err != nil {
		return "", fmt.Errorf("build image %v: %w", tags, err)
	}
	for attempt := 1; ; attempt++ {
		id, err := d.buildOnce(ctx, rs, tags, labels, out)
		if err == nil || attempt == buildAttempts || !vanishedDuringBuild(err) || ctx.Err() != nil {
			return id, err
		}
		if out != nil {
			out("An image the build cache was looking at was removed meanwhile; building again.")
		}
		if _, err := rs.Seek(start, io.SeekStart); err != nil {
			return "", fmt.Errorf("build image %v: %w", tags, err)
		}
	}
}

// vanishedDuringBuild reports whether a build failed only because an image
// it was considering went away under it. The engine says so in words alone.
func vanishedDuringBuild(err error) bool {
	var be *runtime.BuildError
	return errors.As(err, &be) && strings.Contains(be.Msg, "unable to find image")
}

// buildOnce is one build of a context.
func (d *Docker) buildOnce(ctx context.Context, buildContext io.Reader, tags []string, labels map[string]string, out func(line string)) (string, error) {
	resp, err := d.cli.ImageBuild(ctx, buildContext, build.ImageBuildOptions{
		Tags:        tags,
		Labels:      labels,
		Remove:      true,
		ForceRemove: true,
		PullParent:  false,
		Version:     build.BuilderV1,
	})
	if cerrdefs.IsInvalidArgument(err) {
		// A Dockerfile the engine cannot parse is refused before any output.
		return "", &runtime.BuildError{Msg: strings.TrimPrefix(err.Error(), "Error response from daemon: ")}
	}
	if err != nil {
		return "", wrap(err, "build image %v", tags)
	}
	defer resp.Body.Close()
	id, lastStep, err := readBuildStream(resp.Body, out)
	if err != nil {
		var be *runtime.BuildError
		if errors.As(err, &be) {
			d.removeStepImage(context.WithoutCancel(ctx), lastStep)
			return "", err
		}
		return "", fmt.Errorf("build image %v: %w", tags, err)
	}
	if id == "" && len(tags) > 0 {
		// An engine that sent no aux id: the tag names the result.
		var ok bool
		if id, ok, err = d.ImageID(ctx, tags[0]); err != nil || !ok {
			return "", fmt.Errorf("build image %v: no image id in the output", tags)
		}
	}
	return id, nil
}

// removeStepImage removes what a failed build left: the image of its last
// good step, with its untagged parents. A tagged image (a FROM base) is
// kept, and so is one with children (the cache of another build).
func (d *Docker) removeStepImage(ctx context.Context, id string) {
	if id == "" {
		return
	}
	img, err := d.cli.ImageInspect(ctx, id)
	if err != nil || len(img.RepoTags) > 0 {
		return
	}
	_, _ = d.cli.ImageRemove(ctx, img.ID, image.RemoveOptions{PruneChildren: true})
}

// buildMessage is one message of the engine's JSON build stream.
type buildMessage struct {
	Stream      string `json:"stream"`
	Status      string `json:"status"`
	Error       string `json:"error"`
	ErrorDetail *struct {
		Message string `json:"message"`
	} `json:"errorDetail"`
	Aux json.RawMessage `json:"aux"`
}

// readBuildStream decodes the build output, passes its lines to out and
// returns the built image id, or a *runtime.BuildError carrying the last
// lines when the stream reports an error. lastStep is the image of the last
// step that succeeded: the classic builder leaves it behind, untagged, when
// a later step fails, and only the adapter may clean it up.
func readBuildStream(r io.Reader, out func(string)) (id, lastStep string, err error) {
	var (
		last    []string
		partial string // stream text after the last newline
	)
	emit := func(line string) {
		line = strings.TrimRight(line, "\r")
		if strings.TrimSpace(line) == "" {
			return
		}
		if step, ok := stepImage(line); ok {
			lastStep = step
		}
		if out != nil {
			out(line)
		}
		if len(last) == buildErrorLines {
			last = append(last[:0], last[1:]...)
		}
		last = append(last, line)
	}
	flush := func() {
		if partial != "" {
			emit(partial)
			partial = ""
		}
	}
	dec := json.NewDecoder(r)
	for {
		var m buildMessage
		if err := dec.Decode(&m); err == io.EOF {
			break
		} else if err != nil {
			return "", "", fmt.Errorf("read build output: %w", err)
		}
		if m.Stream != "" {
			lines := strings.Split(partial+m.Stream, "\n")
			partial = lines[len(lines)-1]
			for _, l := range lines[:len(lines)-1] {
				emit(l)
			}
		}
		if m.Status != "" {
			flush()
			emit(m.Status)
		}
		if len(m.Aux) > 0 {
			var aux struct{ ID string }
			if json.Unmarshal(m.Aux, &aux) == nil && aux.ID != "" {
				id = aux.ID
			}
		}
		if m.Error != "" || m.ErrorDetail != nil && m.ErrorDetail.Message != "" {
			flush()
			msg := m.Error
			if m.ErrorDetail != nil && m.ErrorDetail.Message != "" {
				msg = m.ErrorDetail.Message
			}
			return "", lastStep, &runtime.BuildError{Msg: strings.TrimSpace(msg), Lines: last}
		}
	}
	flush()
	return id, "", nil
}

// stepImage reads the image id the classic builder prints after each step,
// as in " ---> 3f1c2a9b8e7d".
func stepImage(line string) (string, bool) {
	id, ok := strings.CutPrefix(line, " ---> ")
	if !ok || len(id) != 12 {
		return "", false
	}
	for _, r := range id {
		if (r < '0' || r > '9') && (r < 'a' || r > 'f') {
			return "", false
		}
	}
	return id, true
}

// RemoveImage removes a tag, and the image once no tag is left, with its
// untagged parents (the build cache of its steps); an image in use by a
// container is refused with an error matching runtime.ErrConflict. A missing image
// is already removed. A build running at the same time that reuses one of
// those cached steps can fail on the vanished step image: build again.
func (d *Docker) RemoveImage(ctx context.Context, ref string) error {
	_, err := d.cli.ImageRemove(ctx, ref, image.RemoveOptions{PruneChildren: true})
	if err == nil || cerrdefs.IsNotFound(err) {
		return nil
	}
	return wrap(err, "remove image %s", ref)
}

package handlers

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"unicode"

	"github.com/labstack/echo/v4"

	"appfactory/apperr"
	"appfactory/catalog"
	"appfactory/store"
	"appfactory/views"
)

// maxUploadBytes bounds a component archive; maxUploadBody is the request
// body allowed around it (the multipart envelope and the form's other
// fields), enforced before anything is parsed.
const (
	maxUploadBytes = 20 << 20
	maxUploadBody  = maxUploadBytes + 256<<10
)

// limitBody caps the request body: reading past n fails, and the parse that
// reads it reports too_large. A body announced as larger is not read at
// all, but the handler still runs, so that it can show the refusal where
// the person is (the wizard's upload step) rather than on an error page.
func limitBody(n int64) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			r := c.Request()
			if r.ContentLength > n {
				r.Body = tooLargeBody{limit: n}
				return next(c)
			}
			r.Body = http.MaxBytesReader(c.Response(), r.Body, n)
			return next(c)
		}
	}
}

// tooLargeBody stands in for a body announced as larger than its limit:
// every read fails as http.MaxBytesReader's would.
type tooLargeBody struct{ limit int64 }

func (b tooLargeBody) Read([]byte) (int, error) { return 0, &http.MaxBytesError{Limit: b.limit} }
func (b tooLargeBody) Close() error             { return nil }

func tooLargeUpload() error {
	return apperr.FieldError(apperr.TooLarge, "file", "The upload is larger than %s.", bytesText(maxUploadBytes))
}

// parseRequestForm parses a form body, multipart or not, holding a
// multipart body in memory: the body limit keeps it small, and nothing of a
// refused upload touches the disk.
func parseRequestForm(c echo.Context) error {
	r := c.Request()
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	var err error
	if ct == "multipart/form-data" {
		err = r.ParseMultipartForm(maxUploadBody)
	} else {
		err = r.ParseForm()
	}
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return tooLargeUpload()
	case err != nil:
		return apperr.New(apperr.Invalid, "The form could not be read.")
	}
	return nil
}

// uploadedFile returns the "file" part of a parsed multipart form, read
// into memory; ok is false when no file was sent.
func uploadedFile(c echo.Context) (name string, data []byte, ok bool, err error) {
	r := c.Request()
	if r.MultipartForm == nil || len(r.MultipartForm.File["file"]) == 0 {
		return "", nil, false, nil
	}
	fh := r.MultipartForm.File["file"][0]
	if fh.Filename == "" && fh.Size == 0 {
		return "", nil, false, nil // the browser sends an empty part when no file is chosen
	}
	if fh.Size > maxUploadBytes {
		return "", nil, true, tooLargeUpload()
	}
	f, err := fh.Open()
	if err != nil {
		return "", nil, true, fmt.Errorf("open upload: %w", err)
	}
	defer f.Close()
	data, err = io.ReadAll(io.LimitReader(f, maxUploadBytes+1))
	if err != nil {
		return "", nil, true, fmt.Errorf("read upload: %w", err)
	}
	return cleanFilename(fh.Filename), data, true, nil
}

// cleanFilename keeps the base name of an uploaded file, printable and short.
func cleanFilename(name string) string {
	name = filepath.Base(strings.ReplaceAll(name, `\`, "/"))
	name = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, name)
	if len(name) > 200 {
		name = name[:200]
	}
	if name == "." || name == "/" {
		return ""
	}
	return name
}

// archiveFormat names the format of a checked archive by its first bytes.
func archiveFormat(data []byte) string {
	if bytes.HasPrefix(data, []byte("PK")) {
		return "zip"
	}
	return "tar.gz"
}

// storeComponent checks an uploaded bundle and stores it for its owner:
// the archive content-addressed under <data dir>/components (written to a
// temporary file, then renamed, so no half-written file is ever seen) and
// its row. A refused bundle leaves nothing behind. Uploading the same bytes
// again returns the existing component with created false.
func (h *Handlers) storeComponent(ctx context.Context, ownerID, filename string, data []byte) (*store.CustomComponent, bool, error) {
	b, err := catalog.ReadBundle(filename, data, catalog.DefaultBundleLimits())
	if err != nil {
		return nil, false, err
	}
	format := archiveFormat(data)
	path := store.ComponentBlobPath(h.DataDir, b.SHA256, format)
	wrote, err := writeOnce(path, data)
	if err != nil {
		return nil, false, err
	}
	cc, created, err := h.DB.CreateCustomComponent(ctx, &store.CustomComponent{
		OwnerID: ownerID, SHA256: b.SHA256, Name: b.Manifest.Name, Version: b.Manifest.Version,
		Description: b.Manifest.Description, Filename: filename, Format: format, Size: b.Size, Files: len(b.Files),
	})
	if err != nil {
		if wrote {
			os.Remove(path)
		}
		return nil, false, err
	}
	if created {
		h.Logger.Info("component uploaded", "component", cc.ID, "user", ownerID, "name", cc.Name, "version", cc.Version, "sha256", cc.SHA256, "size", cc.Size)
	}
	return cc, created, nil
}

// writeOnce writes data to path through a temporary file in the same
// directory and a rename, unless the file is already there (the same
// content, by its name). wrote says whether this call made it.
func writeOnce(path string, data []byte) (wrote bool, err error) {
	if _, err := os.Stat(path); err == nil {
		return false, nil
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return false, fmt.Errorf("create %s: %w", dir, err)
	}
	tmp, err := os.CreateTemp(dir, ".upload-*")
	if err != nil {
		return false, fmt.Errorf("create temporary file: %w", err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err = tmp.Write(data); err != nil {
		return false, fmt.Errorf("write %s: %w", tmp.Name(), err)
	}
	if err = tmp.Sync(); err != nil {
		return false, fmt.Errorf("sync %s: %w", tmp.Name(), err)
	}
	if err = tmp.Close(); err != nil {
		return false, fmt.Errorf("close %s: %w", tmp.Name(), err)
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return false, fmt.Errorf("rename to %s: %w", path, err)
	}
	return true, nil
}

// wizardUpload stores the archive sent with step 3, if any, and selects it.
// A refused archive shows the step again with the reason (done is true).
func (h *Handlers) wizardUpload(c echo.Context, st *stepState) (done bool, err error) {
	name, data, ok, err := uploadedFile(c)
	if ok && err == nil {
		var cc *store.CustomComponent
		var created bool
		cc, created, err = h.storeComponent(c.Request().Context(), st.app.OwnerID, name, data)
		if err == nil {
			ids := st.app.CustomComponents()
			if !slices.Contains(ids, cc.ID) {
				st.app.SetCustomComponents(append(ids, cc.ID))
			}
			if created {
				st.notice = fmt.Sprintf("Uploaded %s %s; it is selected for this app.", cc.Name, cc.Version)
			} else {
				st.notice = fmt.Sprintf("You had already uploaded %s %s; it is selected for this app.", cc.Name, cc.Version)
			}
			return false, nil
		}
	}
	if err == nil {
		return false, nil
	}
	if apperr.Code(err) == apperr.Internal {
		return true, err
	}
	st.errs["file"] = apperr.Message(err)
	return true, h.renderStep(c, st, statusOf(err))
}

// componentItem is how step 3 lists an uploaded component.
func componentItem(cc *store.CustomComponent, checked bool) views.CustomItem {
	return views.CustomItem{ID: cc.ID, Name: cc.Name, Version: cc.Version, Description: cc.Description,
		Size: bytesText(cc.Size), SHA256: cc.SHA256, Files: cc.Files, Checked: checked}
}

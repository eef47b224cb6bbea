package handlers

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"appfactory/apperr"
	"appfactory/store"
)

// ComponentJSON is the API's view of an uploaded component.
type ComponentJSON struct {
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	Version     string    `json:"version"`
	Description string    `json:"description"`
	Filename    string    `json:"filename"`
	Format      string    `json:"format"`
	SHA256      string    `json:"sha256"`
	Size        int64     `json:"size"`
	Files       int       `json:"files"`
	CreatedAt   time.Time `json:"created_at"`
}

func componentJSON(cc *store.CustomComponent) ComponentJSON {
	return ComponentJSON{ID: cc.ID, Name: cc.Name, Version: cc.Version, Description: cc.Description, Filename: cc.Filename,
		Format: cc.Format, SHA256: cc.SHA256, Size: cc.Size, Files: cc.Files, CreatedAt: cc.CreatedAt.Time}
}

// apiUploadComponent stores the archive of the multipart field "file": 201
// with the new component, 200 with the existing one when the same bytes
// were uploaded before, 4xx with the reason (and nothing stored) otherwise.
func (h *Handlers) apiUploadComponent(c echo.Context) error {
	if err := parseRequestForm(c); err != nil {
		return err
	}
	name, data, ok, err := uploadedFile(c)
	if err != nil {
		return err
	}
	if !ok {
		return apperr.FieldError(apperr.Invalid, "file", "Send the archive as the multipart/form-data field \"file\".")
	}
	cc, created, err := h.storeComponent(c.Request().Context(), CurrentUser(c).ID, name, data)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	return c.JSON(status, componentJSON(cc))
}

// apiListComponents lists the user's uploaded components.
func (h *Handlers) apiListComponents(c echo.Context) error {
	list, err := h.DB.CustomComponentsOfOwner(c.Request().Context(), CurrentUser(c).ID)
	if err != nil {
		return err
	}
	out := make([]ComponentJSON, len(list))
	for i := range list {
		out[i] = componentJSON(&list[i])
	}
	return c.JSON(http.StatusOK, map[string]any{"components": out})
}

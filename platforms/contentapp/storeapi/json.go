// Package storeapi is the store role's JSON API over HTTP: the server over
// docstore, and the client the web role uses to reach it.
package storeapi

import (
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"

	"appfactory/apperr"
)

// maxBody bounds every request body.
const maxBody = 1 << 20

// errorBody is the JSON shape of every error answer.
type errorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Field   string `json:"field,omitempty"`
	} `json:"error"`
}

// Status maps an apperr code to its HTTP status.
func Status(code string) int {
	switch code {
	case apperr.Invalid:
		return http.StatusBadRequest
	case apperr.Unprocessable:
		return http.StatusUnprocessableEntity
	case apperr.NotFound:
		return http.StatusNotFound
	case apperr.Conflict:
		return http.StatusConflict
	case apperr.Unauthorized:
		return http.StatusUnauthorized
	case apperr.Forbidden:
		return http.StatusForbidden
	case apperr.TooMany:
		return http.StatusTooManyRequests
	case apperr.TooLarge:
		return http.StatusRequestEntityTooLarge
	case apperr.Unavailable:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// writeError answers err as JSON; internal details go to the log only.
func writeError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	code := apperr.Code(err)
	if code == apperr.Internal {
		log.Error("request failed", slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.Any("err", err))
	}
	var b errorBody
	b.Error.Code, b.Error.Message = code, apperr.Message(err)
	var ae *apperr.Error
	if errors.As(err, &ae) {
		b.Error.Field = ae.Field
	}
	writeJSON(w, Status(code), b)
}

// decode reads one JSON object into v, refusing unknown keys, trailing
// data and bodies over maxBody.
func decode(w http.ResponseWriter, r *http.Request, v any) error {
	d := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return apperr.New(apperr.TooLarge, "The request body is larger than %d bytes.", maxBody)
		}
		return apperr.New(apperr.Invalid, "The request body is not valid JSON for this request: %v", err)
	}
	if _, err := d.Token(); err != io.EOF {
		return apperr.New(apperr.Invalid, "The request body holds more than one JSON value.")
	}
	return nil
}

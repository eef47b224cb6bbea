// Package apiclient is a client of appfactory's JSON API (/api/v1): the
// HTTP calls the command line makes, and the API's types as it reads them.
package apiclient

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// Client calls one portal's API with one token.
type Client struct {
	// BaseURL is the portal's address, such as http://localhost:8080.
	BaseURL string
	Token   string
	HTTP    *http.Client
}

// New returns a client of the portal at baseURL.
func New(baseURL, token string) *Client {
	return &Client{BaseURL: strings.TrimRight(baseURL, "/"), Token: token, HTTP: &http.Client{}}
}

// Error is an error answer of the API.
type Error struct {
	Status  int
	Code    string
	Message string
}

func (e *Error) Error() string {
	if e.Code == "" {
		return fmt.Sprintf("the server answered HTTP %d", e.Status)
	}
	return fmt.Sprintf("%s (%s, HTTP %d)", e.Message, e.Code, e.Status)
}

// ErrUnreachable wraps a request that got no answer at all.
var ErrUnreachable = errors.New("cannot reach the server")

func (c *Client) request(ctx context.Context, method, path string, body any, header http.Header) (*http.Response, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.BaseURL+"/api/v1"+path, rd)
	if err != nil {
		return nil, fmt.Errorf("bad server URL %q: %w", c.BaseURL, err)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	req.Header.Set("Authorization", "Bearer "+c.Token)
	req.Header.Set("User-Agent", "appfactory-cli")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("%w at %s: %v", ErrUnreachable, c.BaseURL, err)
	}
	if resp.StatusCode >= 400 {
		defer resp.Body.Close()
		return nil, readError(resp)
	}
	return resp, nil
}

func readError(resp *http.Response) error {
	var e struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	_ = json.Unmarshal(b, &e)
	return &Error{Status: resp.StatusCode, Code: e.Error.Code, Message: e.Error.Message}
}

// Call sends a request (body as JSON unless nil) and returns the answer's
// JSON as it came (nil for 204).
func (c *Client) Call(ctx context.Context, method, path string, body any) (json.RawMessage, error) {
	resp, err := c.request(ctx, method, path, body, nil)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("read the answer of %s %s: %w", method, path, err)
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return nil, nil
	}
	return b, nil
}

// Text GETs a plain-text answer (logs).
func (c *Client) Text(ctx context.Context, path string) (string, error) {
	resp, err := c.request(ctx, http.MethodGet, path, nil, nil)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

// Stream opens a server-sent event stream; lastEventID (if not empty) is
// sent as Last-Event-ID.
func (c *Client) Stream(ctx context.Context, path, lastEventID string) (*EventStream, error) {
	h := http.Header{"Accept": {"text/event-stream"}}
	if lastEventID != "" {
		h.Set("Last-Event-ID", lastEventID)
	}
	resp, err := c.request(ctx, http.MethodGet, path, nil, h)
	if err != nil {
		return nil, err
	}
	return newEventStream(resp.Body), nil
}

// Query builds path?query from pairs of key and value, leaving out empty values.
func Query(path string, kv ...string) string {
	q := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" {
			q.Set(kv[i], kv[i+1])
		}
	}
	if len(q) == 0 {
		return path
	}
	return path + "?" + q.Encode()
}

// PathID escapes an ID for a path segment.
func PathID(id string) string { return url.PathEscape(id) }

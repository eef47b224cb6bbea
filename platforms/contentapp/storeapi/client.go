package storeapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"appfactory/apperr"
	"appfactory/platforms/contentapp/content"
)

// Client calls the store API. It is safe for concurrent use.
type Client struct {
	base string
	hc   *http.Client
	// RetryFor is how long a request whose connection was refused is tried
	// again: the store may still be starting when the web role serves.
	RetryFor time.Duration
}

// storeConns bounds the connections the web role keeps to its store. The
// store answers from a few database connections, so more requests at once
// only queue there; and with idle connections bounded but not open ones,
// every burst wider than the pool dialed new connections and closed them
// after it, each leaving a TIME_WAIT port behind. At a few hundred
// requests at once for a minute that used up the web container's ports
// (over 20 000 in TIME_WAIT), and its pages went from 1 500 to 0 req/s.
const storeConns = 32

// NewClient returns a client of the store at base (e.g. http://store:8081).
// Requests beyond storeConns wait for a connection rather than dial one.
func NewClient(base string) *Client {
	tr := &http.Transport{
		Proxy:                 nil,
		DialContext:           (&net.Dialer{Timeout: 2 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxConnsPerHost:       storeConns,
		MaxIdleConns:          storeConns,
		MaxIdleConnsPerHost:   storeConns,
		IdleConnTimeout:       90 * time.Second,
		ResponseHeaderTimeout: 10 * time.Second,
	}
	return &Client{base: strings.TrimRight(base, "/"), hc: &http.Client{Transport: tr, Timeout: 15 * time.Second}, RetryFor: 3 * time.Second}
}

func unavailable(err error) error {
	return errors.Join(apperr.New(apperr.Unavailable, "The document store is unavailable; try again in a moment."), err)
}

// do sends in (when not nil) as JSON and decodes a 2xx answer into out; an
// error answer becomes the *apperr.Error the store sent.
func (c *Client) do(ctx context.Context, method, path string, in, out any) error {
	return c.send(ctx, method, path, in, out, c.RetryFor)
}

func (c *Client) send(ctx context.Context, method, path string, in, out any, retryFor time.Duration) error {
	var body []byte
	if in != nil {
		var err error
		if body, err = json.Marshal(in); err != nil {
			return fmt.Errorf("encode %s %s: %w", method, path, err)
		}
	}
	deadline := time.Now().Add(retryFor)
	wait := 20 * time.Millisecond
	for {
		req, err := http.NewRequestWithContext(ctx, method, c.base+path, bytes.NewReader(body))
		if err != nil {
			return fmt.Errorf("%s %s: %w", method, path, err)
		}
		if in != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		req.Header.Set("Accept", "application/json")
		resp, err := c.hc.Do(req)
		if err != nil {
			// Only a refused or failed dial is retried: the request never
			// reached the store, so even a POST is safe to send again.
			var op *net.OpError
			if errors.As(err, &op) && op.Op == "dial" && time.Now().Add(wait).Before(deadline) {
				select {
				case <-time.After(wait):
					wait = min(2*wait, 250*time.Millisecond)
					continue
				case <-ctx.Done():
				}
			}
			return unavailable(fmt.Errorf("%s %s: %w", method, path, err))
		}
		defer resp.Body.Close()
		return decodeAnswer(resp, out)
	}
}

func decodeAnswer(resp *http.Response, out any) error {
	b, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return unavailable(fmt.Errorf("read answer: %w", err))
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		if out == nil {
			return nil
		}
		if err := json.Unmarshal(b, out); err != nil {
			return fmt.Errorf("decode answer: %w", err)
		}
		return nil
	}
	var eb errorBody
	if json.Unmarshal(b, &eb) != nil || eb.Error.Code == "" {
		return unavailable(fmt.Errorf("store answered %s", resp.Status))
	}
	return &apperr.Error{Code: eb.Error.Code, Message: eb.Error.Message, Field: eb.Error.Field}
}

func docPath(id string, rest ...string) string {
	return "/documents/" + url.PathEscape(id) + strings.Join(rest, "")
}

// Ping checks, once and without retrying, that the store and its database
// answer.
func (c *Client) Ping(ctx context.Context) error {
	return c.send(ctx, http.MethodGet, "/healthz", nil, nil, 0)
}

// Documents lists the newest documents.
func (c *Client) Documents(ctx context.Context, limit int) (content.DocumentList, error) {
	var l content.DocumentList
	err := c.do(ctx, http.MethodGet, fmt.Sprintf("/documents?limit=%d", limit), nil, &l)
	return l, err
}

// Document returns one document.
func (c *Client) Document(ctx context.Context, id string) (content.Document, error) {
	var d content.Document
	err := c.do(ctx, http.MethodGet, docPath(id), nil, &d)
	return d, err
}

// CreateDocument creates a document.
func (c *Client) CreateDocument(ctx context.Context, in content.DocumentInput) (content.Document, error) {
	var d content.Document
	err := c.do(ctx, http.MethodPost, "/documents", in, &d)
	return d, err
}

// UpdateDocument replaces a document's title and fields.
func (c *Client) UpdateDocument(ctx context.Context, id string, in content.DocumentInput) (content.Document, error) {
	var d content.Document
	err := c.do(ctx, http.MethodPut, docPath(id), in, &d)
	return d, err
}

// Versions lists the kept versions of a document.
func (c *Client) Versions(ctx context.Context, id string) ([]content.Version, error) {
	var v struct {
		Versions []content.Version `json:"versions"`
	}
	err := c.do(ctx, http.MethodGet, docPath(id, "/versions"), nil, &v)
	return v.Versions, err
}

// Comments lists the comments of a document.
func (c *Client) Comments(ctx context.Context, id string) ([]content.Comment, error) {
	var v struct {
		Comments []content.Comment `json:"comments"`
	}
	err := c.do(ctx, http.MethodGet, docPath(id, "/comments"), nil, &v)
	return v.Comments, err
}

// AddComment adds a comment to a document.
func (c *Client) AddComment(ctx context.Context, id string, in content.CommentInput) (content.Comment, error) {
	var cm content.Comment
	err := c.do(ctx, http.MethodPost, docPath(id, "/comments"), in, &cm)
	return cm, err
}

// Transition moves a document to another workflow state.
func (c *Client) Transition(ctx context.Context, id, to string) (content.Document, error) {
	var d content.Document
	err := c.do(ctx, http.MethodPost, docPath(id, "/transition"), content.TransitionInput{To: to}, &d)
	return d, err
}

// Search returns the documents matching q.
func (c *Client) Search(ctx context.Context, q string) ([]content.Document, error) {
	var v struct {
		Documents []content.Document `json:"documents"`
	}
	err := c.do(ctx, http.MethodGet, "/search?q="+url.QueryEscape(q), nil, &v)
	return v.Documents, err
}

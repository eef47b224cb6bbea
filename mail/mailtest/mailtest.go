// Package mailtest runs a real SMTP server (emersion/go-smtp) on
// 127.0.0.1 inside the test process and keeps what it receives, for the
// tests of anything that sends mail.
package mailtest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Received is one message the server accepted.
type Received struct {
	From, To string
	// Data is the whole message as sent; Subject, Text and HTML are read from it.
	Data                string
	Subject, Text, HTML string
	Header              mail.Header
	// TLS says the message came over TLS (STARTTLS or implicit).
	TLS bool
	// User is the authenticated user ("" for none).
	User string
}

// Options tune the server.
type Options struct {
	// TLS offers STARTTLS with a self-signed certificate for 127.0.0.1.
	TLS bool
	// Implicit serves TLS from the first byte (smtps).
	Implicit bool
	// Username and Password are required with AUTH PLAIN when set.
	Username, Password string
	// Refuse makes the server answer DATA with this error (nil: accept).
	Refuse func() error
}

// Server is a running SMTP server.
type Server struct {
	// Addr is host:port; URL is the smtp:// or smtps:// URL to configure a sender with.
	Addr, URL string
	// ClientTLS trusts the server's certificate.
	ClientTLS *tls.Config
	mu        sync.Mutex
	got       []Received
	arrived   chan struct{}
	opts      Options
}

// Start runs a server until the test ends.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	s := &Server{arrived: make(chan struct{}, 1000), opts: opts}
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		_, tlsOK := c.TLSConnectionState()
		return &session{s: s, tls: tlsOK}, nil
	}))
	srv.Domain = "localhost"
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	srv.AllowInsecureAuth = !opts.TLS && !opts.Implicit
	var tlsCfg *tls.Config
	if opts.TLS || opts.Implicit {
		var pool *x509.CertPool
		tlsCfg, pool = selfSigned(t)
		s.ClientTLS = &tls.Config{RootCAs: pool, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}
		srv.TLSConfig = tlsCfg
	}
	var ln net.Listener
	var err error
	if opts.Implicit {
		ln, err = tls.Listen("tcp", "127.0.0.1:0", tlsCfg)
	} else {
		ln, err = net.Listen("tcp", "127.0.0.1:0")
	}
	if err != nil {
		t.Fatal(err)
	}
	s.Addr = ln.Addr().String()
	scheme := "smtp"
	if opts.Implicit {
		scheme = "smtps"
	}
	user := ""
	if opts.Username != "" {
		user = opts.Username + ":" + opts.Password + "@"
	}
	s.URL = scheme + "://" + user + s.Addr
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { srv.Close() })
	return s
}

// Messages returns what arrived so far.
func (s *Server) Messages() []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Received(nil), s.got...)
}

// Wait returns once n messages arrived in all, or fails the test after a
// generous deadline (the relay polls; this is no timing assertion).
func (s *Server) Wait(t testing.TB, n int) []Received {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		if got := s.Messages(); len(got) >= n {
			return got
		}
		select {
		case <-s.arrived:
		case <-deadline:
			t.Fatalf("%d messages arrived, want %d", len(s.Messages()), n)
		}
	}
}

type session struct {
	s        *Server
	tls      bool
	from, to string
	user     string
}

func (x *session) AuthMechanisms() []string {
	if x.s.opts.Username == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (x *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != x.s.opts.Username || pass != x.s.opts.Password {
			return errors.New("bad credentials")
		}
		x.user = user
		return nil
	}), nil
}

func (x *session) Mail(from string, _ *smtp.MailOptions) error {
	if x.s.opts.Username != "" && x.user == "" {
		return smtp.ErrAuthRequired
	}
	x.from = from
	return nil
}

func (x *session) Rcpt(to string, _ *smtp.RcptOptions) error { x.to = to; return nil }

func (x *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if x.s.opts.Refuse != nil {
		if err := x.s.opts.Refuse(); err != nil {
			return err
		}
	}
	rec := Received{From: x.from, To: x.to, Data: string(b), TLS: x.tls, User: x.user}
	if err := parse(&rec); err != nil {
		return err
	}
	x.s.mu.Lock()
	x.s.got = append(x.s.got, rec)
	x.s.mu.Unlock()
	x.s.arrived <- struct{}{}
	return nil
}

func (x *session) Reset()        {}
func (x *session) Logout() error { return nil }

// parse reads the subject and the two parts of a multipart/alternative message.
func parse(r *Received) error {
	m, err := mail.ReadMessage(strings.NewReader(r.Data))
	if err != nil {
		return err
	}
	r.Header = m.Header
	r.Subject, _ = new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
	_, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil {
		return err
	}
	mr := multipart.NewReader(m.Body, params["boundary"])
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		body, err := io.ReadAll(quotedprintable.NewReader(p))
		if err != nil {
			return err
		}
		switch ct, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type")); ct {
		case "text/plain":
			r.Text = strings.ReplaceAll(string(body), "\r\n", "\n")
		case "text/html":
			r.HTML = strings.ReplaceAll(string(body), "\r\n", "\n")
		}
	}
}

// selfSigned makes a certificate for 127.0.0.1 and the pool that trusts it.
func selfSigned(t testing.TB) (*tls.Config, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}, MinVersion: tls.VersionTLS12}, pool
}

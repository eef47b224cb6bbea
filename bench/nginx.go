package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// nginxProxy is Debian's nginx run as a child of the bench with its own
// config, pid, log and temp paths in a temp dir: it listens on loopback
// only and proxies to one address (the tenant container's), with the
// keep-alive upstream its documentation recommends for HTTP/1.1 backends.
type nginxProxy struct {
	dir  string
	cmd  *exec.Cmd
	addr string // 127.0.0.1:PORT
	done chan error
}

const nginxConf = `worker_processes auto;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log warn;
daemon off;
events { worker_connections 4096; }
http {
	access_log off;
	client_body_temp_path %[1]s/client_body;
	proxy_temp_path %[1]s/proxy;
	fastcgi_temp_path %[1]s/fastcgi;
	uwsgi_temp_path %[1]s/uwsgi;
	scgi_temp_path %[1]s/scgi;
	upstream tenant {
		server %[2]s;
		keepalive 256;
	}
	server {
		listen %[3]s;
		location / {
			proxy_pass http://tenant;
			proxy_http_version 1.1;
			proxy_set_header Connection "";
			proxy_set_header Host $host;
			proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
			proxy_set_header X-Forwarded-Host $host;
			proxy_set_header X-Forwarded-Proto $scheme;
		}
	}
}
`

// startNginx runs nginx in front of backend (host:port of a container).
func startNginx(ctx context.Context, backend string) (*nginxProxy, error) {
	if err := ensureTool(ctx, "nginx", "nginx-light"); err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "appfactory-bench-nginx-")
	if err != nil {
		return nil, err
	}
	// The workers run as nobody when the bench runs as root: they need to
	// reach the temp paths.
	_ = os.Chmod(dir, 0o755)
	n := &nginxProxy{dir: dir, done: make(chan error, 1)}
	// A free loopback port: taken, then given back for nginx to bind.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		n.stop()
		return nil, err
	}
	n.addr = ln.Addr().String()
	ln.Close()
	conf := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(conf, []byte(fmt.Sprintf(nginxConf, dir, backend, n.addr)), 0o644); err != nil {
		n.stop()
		return nil, err
	}
	n.cmd = exec.Command("nginx", "-p", dir, "-e", filepath.Join(dir, "error.log"), "-c", conf)
	n.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out, _ := os.Create(filepath.Join(dir, "stderr.log"))
	n.cmd.Stdout, n.cmd.Stderr = out, out
	if err := n.cmd.Start(); err != nil {
		n.stop()
		return nil, fmt.Errorf("start nginx: %w", err)
	}
	go func() { n.done <- n.cmd.Wait(); out.Close() }()
	for deadline := time.Now().Add(10 * time.Second); ; {
		if c, err := net.DialTimeout("tcp", n.addr, 100*time.Millisecond); err == nil {
			c.Close()
			return n, nil
		}
		select {
		case err := <-n.done:
			n.done <- err
			log, _ := os.ReadFile(filepath.Join(dir, "error.log"))
			n.stop()
			return nil, fmt.Errorf("nginx exited: %v: %s", err, strings.TrimSpace(string(log)))
		default:
		}
		if time.Now().After(deadline) {
			n.stop()
			return nil, fmt.Errorf("nginx did not listen on %s", n.addr)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stop ends nginx (a fast shutdown of master and workers) and removes its dir.
func (n *nginxProxy) stop() {
	if n.cmd != nil && n.cmd.Process != nil {
		_ = n.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-n.done:
		case <-time.After(5 * time.Second):
			_ = syscall.Kill(-n.cmd.Process.Pid, syscall.SIGKILL)
			<-n.done
		}
	}
	os.RemoveAll(n.dir)
}

// cpu returns the CPU time nginx's master and workers have used so far,
// from /proc (clock ticks of 10 ms).
func (n *nginxProxy) cpu() time.Duration {
	master := n.cmd.Process.Pid
	entries, _ := os.ReadDir("/proc")
	var ticks int64
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ... utime(14) stime(15): fields after ")".
		s := string(b)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(f) < 13 {
			continue
		}
		ppid, _ := strconv.Atoi(f[1])
		if pid != master && ppid != master {
			continue
		}
		u, _ := strconv.ParseInt(f[11], 10, 64)
		st, _ := strconv.ParseInt(f[12], 10, 64)
		ticks += u + st
	}
	return time.Duration(ticks) * 10 * time.Millisecond
}

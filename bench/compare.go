package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"
)

// sideBySide is the comparison of the three paths to one running tenant:
// straight to the routed container's address, through nginx, and through
// appfactory's router, each loaded by the same wrk.
type sideBySide struct {
	conns    []int
	paths    []benchPath
	rounds   int
	duration time.Duration
	cells    []cell
}

type benchPath struct{ name, path string }

// cell is one path at one connection count in one round, the three targets
// measured one after the other.
type cell struct {
	round                 int
	path                  benchPath
	conns                 int
	direct, nginx, router wrkResult
}

// measureSideBySide runs the matrix: for each round, each path and each
// connection count, direct, nginx and the router in turn, one second each
// until each had its duration, so that what else the machine does falls
// on all three alike.
func (f *fixture) measureSideBySide(ctx context.Context, sb *sideBySide) error {
	if err := ensureTool(ctx, "wrk", "wrk"); err != nil {
		return err
	}
	backend, err := f.webBackend()
	if err != nil {
		return err
	}
	webCPU, err := f.webCPU(ctx)
	if err != nil {
		return err
	}
	ngx, err := startNginx(ctx, backend)
	if err != nil {
		return err
	}
	defer ngx.stop()
	for round := 1; round <= sb.rounds; round++ {
		for _, p := range sb.paths {
			for _, c := range sb.conns {
				fmt.Fprintf(os.Stderr, "side by side: round %d, %s, %d connections...\n", round, p.path, c)
				cl := cell{round: round, path: p, conns: c}
				none := func() time.Duration { return 0 }
				// This process is the router (and an idle reconciler).
				targets := []loadTarget{
					{"direct", "http://" + backend + p.path, "", none, &cl.direct},
					{"nginx", "http://" + ngx.addr + p.path, f.host, ngx.cpu, &cl.nginx},
					{"router", f.base + p.path, f.host, processCPU, &cl.router},
				}
				if err := interleave(ctx, targets, webCPU, c, sb.duration); err != nil {
					return err
				}
				sb.cells = append(sb.cells, cl)
			}
		}
	}
	return nil
}

// met says whether the router kept up with nginx in every round at 64 and
// 256 connections on the cheap path: req/s at least nginx's, p99 at most
// nginx's + 1 ms.
func (sb *sideBySide) met() (bool, int) {
	ok, n := true, 0
	for _, c := range sb.cells {
		if c.path != sb.paths[0] || (c.conns != 64 && c.conns != 256) {
			continue
		}
		n++
		if c.router.rps < c.nginx.rps || c.router.p99 > c.nginx.p99+time.Millisecond {
			ok = false
		}
	}
	return ok && n > 0, n
}

func (sb *sideBySide) print(out io.Writer) error {
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	ms := func(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000) }
	fmt.Fprintf(w, "side by side (wrk, %d × 1 s per target, interleaved)\tconns\ttarget\treq/s\tp50\tp99\terrors\tx direct\tx nginx\tp99 - nginx\tproxy CPU/req\tbackend CPU/req\t\n", seconds(sb.duration))
	for _, c := range sb.cells {
		label := fmt.Sprintf("round %d, %s %s", c.round, c.path.name, c.path.path)
		for _, t := range []struct {
			name string
			r    wrkResult
		}{{"direct", c.direct}, {"nginx", c.nginx}, {"router", c.router}} {
			xd, xn, dn, cpu := "", "", "", ""
			if t.name != "direct" {
				cpu = fmt.Sprintf("%.1f µs", float64(t.r.cpu.Nanoseconds())/1000)
			}
			if t.name != "direct" && c.direct.rps > 0 {
				xd = fmt.Sprintf("%.2fx", t.r.rps/c.direct.rps)
			}
			if t.name == "router" && c.nginx.rps > 0 {
				xn = fmt.Sprintf("%.2fx", t.r.rps/c.nginx.rps)
				dn = fmt.Sprintf("%+.2f ms", float64((t.r.p99-c.nginx.p99).Microseconds())/1000)
			}
			fmt.Fprintf(w, "%s\t%d\t%s\t%.0f\t%s\t%s\t%d\t%s\t%s\t%s\t%s\t%.1f µs\t\n", label, c.conns, t.name, t.r.rps, ms(t.r.p50), ms(t.r.p99), t.r.errors, xd, xn, dn, cpu, float64(t.r.backend.Nanoseconds())/1000)
			label = ""
		}
	}
	ok, n := sb.met()
	fmt.Fprintf(w, "router >= nginx req/s and p99 <= nginx + 1 ms, %s at 64 and 256 conns (%d runs)\t\t\t\t\t\t\t\t\t%s\t\t\t\n",
		sb.paths[0].path, n, verdict(ok))
	return w.Flush()
}

package bench

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/imds-dev/imds"
	"github.com/imds-dev/imds/dataplane"
	"github.com/imds-dev/imds/inventory"
	"github.com/imds-dev/imds/store/bolt"
	"github.com/imds-dev/imds/store/mem"
	"github.com/imds-dev/imds/token"
)

// The benchmarks report; they assert nothing. The heavy ones run once,
// the data-plane ones as usual:
//
//	go test -run '^$' -bench 'Import|Apply|Propagation' -benchtime 1x ./bench/
//	go test -run '^$' -bench Serve ./bench/
//
// IMDS_BENCH_INSTANCES sets the large fleet (default 100000) and
// IMDS_BENCH_SERVED the fleet the data-plane benchmarks serve (default
// 8000; see BenchmarkApply for why not more).

// BenchmarkImport generates a describe-instances file, parses it and
// imports it into each store, reporting the time of each step and the
// memory held afterwards.
func BenchmarkImport(b *testing.B) {
	stores := []struct {
		name string
		open func(b *testing.B) imds.Store
	}{
		{"mem", func(*testing.B) imds.Store { return mem.New() }},
		{"bolt", func(b *testing.B) imds.Store {
			s, err := bolt.Open(filepath.Join(b.TempDir(), "imds.db"), nil)
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { s.Close() })
			return s
		}},
	}
	n := fleetSize()
	for _, st := range stores {
		b.Run(fmt.Sprintf("%s/%d", st.name, n), func(b *testing.B) {
			for b.Loop() {
				start := time.Now()
				ins, size := generate(b, n)
				parsed := since(start)
				s := st.open(b)
				start = time.Now()
				added, err := inventory.Import(context.Background(), s, ins)
				if err != nil || added != n {
					b.Fatalf("imported %d, %v", added, err)
				}
				imported := since(start)
				ins = nil
				heap, rss := memory()
				runtime.KeepAlive(s)
				b.ReportMetric(float64(size)/(1<<20), "file_MiB")
				b.ReportMetric(parsed, "generate+parse_s")
				b.ReportMetric(imported, "import_s")
				b.ReportMetric(heap, "heap_MiB")
				b.ReportMetric(rss, "rss_MiB")
			}
		})
	}
}

// BenchmarkApply loads fleets of growing size, one Fleet.Apply per
// instance as Fleet.Follow does at start-up. Each new instance rebuilds
// the whole address index, so the time grows with the square of the size.
func BenchmarkApply(b *testing.B) {
	for _, n := range []int{1000, 2000, 4000, 8000} {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			ins, _ := generate(b, n)
			for b.Loop() {
				f := newFleet()
				start := time.Now()
				for _, in := range ins {
					f.Apply(in)
				}
				b.ReportMetric(since(start), "apply_s")
				_, rss := memory()
				b.ReportMetric(rss, "rss_MiB")
			}
		})
	}
}

// servedSize is the fleet the data-plane benchmarks serve.
func servedSize() int {
	if n, err := strconv.Atoi(os.Getenv("IMDS_BENCH_SERVED")); err == nil && n > 0 {
		return n
	}
	return 8000
}

// BenchmarkServe compares a fleet of one instance with a large one: the
// source-address lookup alone, and a whole IMDSv2 GET through the data
// plane, requests spread over 1024 instances so the large fleet's index
// does not stay in cache.
func BenchmarkServe(b *testing.B) {
	for _, n := range []int{1, servedSize()} {
		ins, _ := generate(b, n)
		f := newFleet()
		for _, in := range ins {
			f.Apply(in)
		}
		ring, _ := token.NewKeyRing(time.Now())
		auth := token.NewAuthority(ring, nil)
		plane := dataplane.New(dataplane.Config{Directory: f, Tokens: auth})

		var reqs []*http.Request
		for i := 0; i < 1024; i++ {
			in := ins[(i*7919)%n]
			tok, _ := auth.Issue(in.ID, token.MaxTTL)
			r := httptest.NewRequest("GET", "/latest/meta-data/instance-id", nil)
			r.RemoteAddr = in.Addresses()[0].String() + ":40000"
			r.Header.Set("X-Aws-Ec2-Metadata-Token", tok)
			reqs = append(reqs, r)
		}

		b.Run(fmt.Sprintf("lookup/%d", n), func(b *testing.B) {
			i := 0
			for b.Loop() {
				in := ins[(i*7919)%n]
				if f.Lookup(in.Interfaces[0].PrivateIPv4s[0]) == nil {
					b.Fatal("lookup missed")
				}
				i++
			}
		})
		b.Run(fmt.Sprintf("get/%d", n), func(b *testing.B) {
			w := httptest.NewRecorder()
			for _, r := range reqs { // build each tree before timing
				plane.ServeHTTP(w, r)
			}
			i := 0
			for b.Loop() {
				w := discard{h: make(http.Header, 8)}
				plane.ServeHTTP(&w, reqs[i%len(reqs)])
				if w.status != 0 && w.status != http.StatusOK {
					b.Fatalf("status %d", w.status)
				}
				i++
			}
		})
	}
}

// discard is a ResponseWriter that keeps only the status.
type discard struct {
	h      http.Header
	status int
}

func (w *discard) Header() http.Header         { return w.h }
func (w *discard) WriteHeader(code int)        { w.status = code }
func (w *discard) Write(p []byte) (int, error) { return len(p), nil }

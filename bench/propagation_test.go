package bench

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/imds-dev/imds"
	"github.com/imds-dev/imds/store/etcd"
	"github.com/imds-dev/imds/store/etcd/etcdtest"
)

// BenchmarkPropagation measures change-to-enforced latency across
// replicas: an Update through one replica's etcd store until the other
// replica's fleet serves the new value, over 300 changes.
func BenchmarkPropagation(b *testing.B) {
	srv := etcdtest.Start(b)
	spec := "etcd://" + strings.TrimPrefix(srv.Endpoint, "http://") + "/bench"
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stores [2]*etcd.Store
	for i := range stores {
		s, err := etcd.Open(ctx, spec, nil)
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		stores[i] = s
	}
	ins, _ := generate(b, 100)
	for _, in := range ins {
		if err := stores[0].Put(ctx, in); err != nil {
			b.Fatal(err)
		}
	}
	far := newFleet()
	if err := far.Follow(ctx, stores[1], slog.New(slog.DiscardHandler)); err != nil {
		b.Fatal(err)
	}
	target := ins[42]
	addr := target.Interfaces[0].PrivateIPv4s[0]

	for b.Loop() {
		var lat []time.Duration
		for i := 1; i <= 300; i++ {
			start := time.Now()
			_, err := stores[0].Update(ctx, target.ID, func(in *imds.Instance) error {
				in.LaunchIndex = 1000 + i
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
			for {
				if v := far.Lookup(addr); v != nil && v.Instance().LaunchIndex == 1000+i {
					break
				}
				if time.Since(start) > 5*time.Second {
					b.Fatalf("change %d not enforced in 5s", i)
				}
				time.Sleep(20 * time.Microsecond)
			}
			lat = append(lat, time.Since(start))
		}
		slices.Sort(lat)
		ms := func(q float64) float64 { return float64(lat[int(q*float64(len(lat)-1))]) / 1e6 }
		b.ReportMetric(ms(0.5), "p50_ms")
		b.ReportMetric(ms(0.99), "p99_ms")
		b.ReportMetric(ms(1), "max_ms")
	}
}

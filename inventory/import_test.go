package inventory_test

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"

	"github.com/imds-dev/imds"
	"github.com/imds-dev/imds/bench"
	"github.com/imds-dev/imds/inventory"
	"github.com/imds-dev/imds/store/bolt"
	"github.com/imds-dev/imds/store/mem"
)

// plain hides a store's optional interfaces, so Import takes its
// check-then-put path.
type plain struct{ imds.Store }

func generated(t *testing.T, n int) []*imds.Instance {
	t.Helper()
	var buf bytes.Buffer
	if err := bench.WriteDescribeInstances(&buf, n); err != nil {
		t.Fatal(err)
	}
	ins, err := inventory.Parse(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if len(ins) != n {
		t.Fatalf("generated %d, want %d", len(ins), n)
	}
	return ins
}

// Ensure a second import adds only new instances and keeps what changed
// meanwhile, whichever way the store creates instances.
func TestImport(t *testing.T) {
	stores := []struct {
		name string
		open func(t *testing.T) imds.Store
	}{
		{"mem creator", func(*testing.T) imds.Store { return mem.New() }},
		{"plain", func(*testing.T) imds.Store { return plain{mem.New()} }},
		{"bolt bulk", func(t *testing.T) imds.Store {
			s, err := bolt.Open(filepath.Join(t.TempDir(), "imds.db"), nil)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		}},
	}
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			ctx := context.Background()
			s := st.open(t)
			ins := generated(t, 250)
			added, err := inventory.Import(ctx, s, ins[:200])
			if err != nil || added != 200 {
				t.Fatalf("first import: %d, %v", added, err)
			}

			// The control plane changes one instance and terminates another.
			if _, err := s.Update(ctx, ins[0].ID, func(in *imds.Instance) error {
				in.Options.HTTPTokens = imds.TokensOptional
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Update(ctx, ins[1].ID, func(in *imds.Instance) error {
				in.State = "terminated"
				return nil
			}); err != nil {
				t.Fatal(err)
			}

			added, err = inventory.Import(ctx, s, generated(t, 250))
			if err != nil || added != 50 {
				t.Fatalf("second import: %d, %v", added, err)
			}
			all, _ := s.List(ctx)
			if len(all) != 250 {
				t.Fatalf("%d stored, want 250", len(all))
			}
			if in, _ := s.Get(ctx, ins[0].ID); in.Options.HTTPTokens != imds.TokensOptional {
				t.Fatal("import undid a metadata-options change")
			}
			if in, _ := s.Get(ctx, ins[1].ID); in.State != "terminated" {
				t.Fatal("import revived a terminated instance")
			}
		})
	}
}

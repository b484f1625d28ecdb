package fanout

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/imds-dev/imds"
)

// Ensure a slow subscriber gets every change in order, and the channel
// closes when its context ends.
func TestHub_Publish(t *testing.T) {
	var h Hub
	ctx, cancel := context.WithCancel(context.Background())
	ch := h.Subscribe(ctx)
	const n = 5000 // more than any channel buffer would hold
	for i := range n {
		h.Publish(imds.Change{ID: fmt.Sprint(i), Instance: &imds.Instance{LaunchIndex: i}})
	}
	for i := range n {
		select {
		case c := <-ch:
			if c.Instance.LaunchIndex != i {
				t.Fatalf("change %d is %d", i, c.Instance.LaunchIndex)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("change %d never came", i)
		}
	}
	cancel()
	for range ch {
	}
}

package audit

import (
	"crypto/rand"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/imds-dev/imds"
	"github.com/imds-dev/imds/config"
	"github.com/imds-dev/imds/creds"
	"github.com/imds-dev/imds/dataplane"
	"github.com/imds-dev/imds/token"
	"github.com/imds-dev/imds/tree"
)

// plane is an in-process data plane on a loopback port serving the
// built-in instance, with after as its After hook.
type plane struct {
	url  string
	view *dataplane.View
}

func startPlane(t *testing.T, after func(*http.Request, dataplane.Outcome, time.Duration)) *plane {
	t.Helper()
	seed := make([]byte, 32)
	rand.Read(seed)
	opts := tree.Options{Creds: creds.NewGenerator(seed, creds.DefaultSchedule)}
	view := dataplane.NewView(config.DefaultInstance(time.Now()),
		func(in *imds.Instance, now time.Time) *tree.Tree { return tree.Build(in, opts, now) })
	ring, err := token.NewKeyRing(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	dp := dataplane.New(dataplane.Config{
		Directory: dataplane.Single{View: view},
		Tokens:    token.NewAuthority(ring, nil),
		Hooks:     dataplane.Hooks{After: after},
	})
	ts := httptest.NewUnstartedServer(dp)
	ts.Config.ConnContext = dataplane.ConnContext
	ts.Start()
	t.Cleanup(ts.Close)
	return &plane{url: ts.URL, view: view}
}

// requireTokens flips the instance to IMDSv2-only, as the control plane would.
func (p *plane) requireTokens() {
	in := *p.view.Instance()
	in.Options.HTTPTokens = imds.TokensRequired
	p.view.Set(&in)
}

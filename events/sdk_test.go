package events_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	imdsmodel "github.com/imds-dev/imds"
	"github.com/imds-dev/imds/config"
	"github.com/imds-dev/imds/control"
	"github.com/imds-dev/imds/creds"
	"github.com/imds-dev/imds/dataplane"
	"github.com/imds-dev/imds/events"
	"github.com/imds-dev/imds/fleet"
	"github.com/imds-dev/imds/internal/signedclient"
	"github.com/imds-dev/imds/store/mem"
	"github.com/imds-dev/imds/token"
	"github.com/imds-dev/imds/tree"
)

// The documents as aws-node-termination-handler reads them
// (pkg/ec2metadata): every field a string, times parsed afterwards.
type (
	nthInstanceAction struct {
		Action string `json:"action"`
		Time   string `json:"time"`
	}
	nthRebalanceRecommendation struct {
		NoticeTime string `json:"noticeTime"`
	}
	nthScheduledEventDetail struct {
		NotBefore   string `json:"NotBefore"`
		Code        string `json:"Code"`
		Description string `json:"Description"`
		EventID     string `json:"EventId"`
		NotAfter    string `json:"NotAfter"`
		State       string `json:"State"`
	}
)

// nthScheduledEventLayout is the layout NTH parses maintenance times with.
const nthScheduledEventLayout = "2 Jan 2006 15:04:05 GMT"

// planes is a data plane and a control listener with the event endpoints
// over one in-memory store holding a Spot instance, each on a loopback
// port, wired as `imds serve` wires them.
type planes struct {
	ctl  *signedclient.Client
	imds *imds.Client
}

func startPlanes(t *testing.T) *planes {
	t.Helper()
	ctx, stop := context.WithCancel(context.Background())
	t.Cleanup(stop)
	st := mem.New()
	in := config.DefaultInstance(time.Now())
	in.LifeCycle = "spot"
	if err := st.Put(ctx, in); err != nil {
		t.Fatal(err)
	}

	seed := make([]byte, 32)
	rand.Read(seed)
	opts := tree.Options{Creds: creds.NewGenerator(seed, creds.DefaultSchedule)}
	fl := fleet.New(fleet.Everyone, func(in *imdsmodel.Instance, now time.Time) *tree.Tree { return tree.Build(in, opts, now) })
	if err := fl.Follow(ctx, st, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	ring, err := token.NewKeyRing(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	data := dataplane.HTTPServer(dataplane.New(dataplane.Config{Directory: fl, Tokens: token.NewAuthority(ring, nil)}), nil)

	credsFile := filepath.Join(t.TempDir(), control.CredentialsFileName)
	keys, _, err := control.EnsureCredentials(credsFile)
	if err != nil {
		t.Fatal(err)
	}
	ctl := control.New(control.Config{Store: st, Apply: fl.Apply, Keys: keys})
	mux := http.NewServeMux()
	mux.Handle("/", ctl)
	h := events.NewHandler(events.Options{Store: st, Apply: fl.Apply, Auth: ctl})
	mux.Handle(events.Path, h)
	mux.Handle(events.Path+"/", h)

	dataURL, controlURL := serve(t, data), serve(t, &http.Server{Handler: mux})
	c, err := signedclient.New(ctx, signedclient.Options{Endpoint: controlURL, CredentialsFile: credsFile})
	if err != nil {
		t.Fatal(err)
	}
	// The SDK is given its endpoint and never looks at the environment's;
	// the variable is set too in case a later change makes it look.
	t.Setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", dataURL)
	return &planes{
		ctl:  c,
		imds: imds.New(imds.Options{Endpoint: dataURL, ClientEnableState: imds.ClientEnabled, EnableFallback: aws.FalseTernary}),
	}
}

// serve runs srv on a free loopback port until the test ends and returns
// its URL, refusing anything but loopback.
func serve(t *testing.T, srv *http.Server) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	u := "http://" + ln.Addr().String()
	if parsed, err := url.Parse(u); err != nil || !net.ParseIP(parsed.Hostname()).IsLoopback() {
		t.Fatalf("refusing to run a client against %q", u)
	}
	return u
}

// schedule posts an event and returns it as the server answered.
func (p *planes) schedule(t *testing.T, req events.Request) events.Event {
	t.Helper()
	var e events.Event
	if err := p.ctl.Do(context.Background(), "POST", events.Path, req, &e); err != nil {
		t.Fatalf("schedule %+v: %v", req, err)
	}
	return e
}

// get reads a metadata path with aws-sdk-go-v2's client, which uses a
// token, and returns the body or the status of the refusal.
func (p *planes) get(t *testing.T, path string) (string, int) {
	t.Helper()
	out, err := p.imds.GetMetadata(context.Background(), &imds.GetMetadataInput{Path: path})
	if err != nil {
		var re *smithyhttp.ResponseError
		if errors.As(err, &re) {
			return "", re.HTTPStatusCode()
		}
		t.Fatalf("GetMetadata(%s): %v", path, err)
	}
	defer out.Content.Close()
	b, err := io.ReadAll(out.Content)
	if err != nil {
		t.Fatalf("GetMetadata(%s): %v", path, err)
	}
	return string(b), http.StatusOK
}

// Ensure aws-sdk-go-v2's client sees a Spot interruption scheduled two
// seconds ahead no earlier than the time set and soon after it, as NTH
// would parse it, with termination-time for terminate.
func TestSDK_SpotAtTimeSet(t *testing.T) {
	p := startPlanes(t)
	id := instanceIDOf(t, p)
	if _, status := p.get(t, "spot/instance-action"); status != 404 {
		t.Fatalf("spot/instance-action before scheduling: %d, want 404", status)
	}
	// The notice is due two seconds after the server got the request: not
	// before sent+2s, and not much after answered+2s.
	sent := time.Now()
	e := p.schedule(t, events.Request{InstanceID: id, Kind: "spot", Action: "terminate", In: "2s"})
	earliest, latest := sent.Add(2*time.Second), time.Now().Add(2*time.Second)
	if e.At.Before(earliest) || e.At.After(latest) {
		t.Fatalf("notice due at %v, want between %v and %v", e.At, earliest, latest)
	}

	polls := 0
	var body string
	for {
		// The server answered between asked and answered: a 200 is early
		// only if the whole exchange ended before the time set, a 404 late
		// only if it began after.
		asked := time.Now()
		b, status := p.get(t, "spot/instance-action")
		answered := time.Now()
		if status == 200 {
			if answered.Before(earliest) {
				t.Fatalf("notice served %v before the time set", earliest.Sub(answered))
			}
			body = b
			break
		}
		if status != 404 {
			t.Fatalf("spot/instance-action while pending: %d, want 404", status)
		}
		if late := asked.Sub(latest); late > time.Second {
			t.Fatalf("still 404 %v after the time set", late)
		}
		polls++
		time.Sleep(20 * time.Millisecond)
	}
	if polls == 0 {
		t.Errorf("notice served at the first poll, before the time set")
	}

	var action nthInstanceAction
	if err := json.Unmarshal([]byte(body), &action); err != nil {
		t.Fatalf("instance-action %q: %v", body, err)
	}
	when, err := time.Parse(time.RFC3339, action.Time)
	if err != nil || action.Action != "terminate" || !when.Equal(e.ActionTime.Truncate(time.Second)) {
		t.Errorf("instance-action = %+v (%v), want terminate at %v", action, err, e.ActionTime.Truncate(time.Second))
	}
	if tt, status := p.get(t, "spot/termination-time"); status != 200 || tt != action.Time {
		t.Errorf("spot/termination-time = %q (%d), want %q", tt, status, action.Time)
	}

	// A stop replaces the notice; termination-time is for terminate only.
	p.schedule(t, events.Request{InstanceID: id, Kind: "spot", Action: "stop"})
	if b, _ := p.get(t, "spot/instance-action"); json.Unmarshal([]byte(b), &action) != nil || action.Action != "stop" {
		t.Errorf("instance-action after stop = %q", b)
	}
	if _, status := p.get(t, "spot/termination-time"); status != 404 {
		t.Errorf("spot/termination-time for stop: %d, want 404", status)
	}

	// Cancelling takes the notice away at once.
	if err := p.ctl.Do(context.Background(), "DELETE", events.Path+"/spot?instance-id="+id, nil, nil); err != nil {
		t.Fatal(err)
	}
	if _, status := p.get(t, "spot/instance-action"); status != 404 {
		t.Errorf("spot/instance-action after cancel: %d, want 404", status)
	}
}

// Ensure a rebalance recommendation is served by the time the control
// answer arrives and parses as NTH expects.
func TestSDK_Rebalance(t *testing.T) {
	p := startPlanes(t)
	id := instanceIDOf(t, p)
	if _, status := p.get(t, "events/recommendations/rebalance"); status != 404 {
		t.Fatalf("rebalance before scheduling: %d, want 404", status)
	}
	e := p.schedule(t, events.Request{InstanceID: id, Kind: "rebalance"})

	body, status := p.get(t, "events/recommendations/rebalance")
	var rec nthRebalanceRecommendation
	if err := json.Unmarshal([]byte(body), &rec); status != 200 || err != nil {
		t.Fatalf("rebalance = %q (%d): %v", body, status, err)
	}
	notice, err := time.Parse(time.RFC3339, rec.NoticeTime)
	if err != nil || !notice.Equal(e.At.Truncate(time.Second)) {
		t.Errorf("noticeTime %q (%v), want %v", rec.NoticeTime, err, e.At.Truncate(time.Second))
	}
}

// Ensure a maintenance event appears under scheduled, moves to history as
// canceled when cancelled, and parses with NTH's types and layout.
func TestSDK_Maintenance(t *testing.T) {
	p := startPlanes(t)
	id := instanceIDOf(t, p)
	if body, _ := p.get(t, "events/maintenance/scheduled"); body != "[]" {
		t.Fatalf("scheduled before any event = %q, want []", body)
	}
	reboot := p.schedule(t, events.Request{InstanceID: id, Kind: "maintenance", Code: "system-reboot", NotBefore: "+24h"})
	stop := p.schedule(t, events.Request{InstanceID: id, Kind: "maintenance", Code: "instance-stop", NotBefore: "+72h"})

	scheduled := p.maintenance(t, "scheduled")
	if len(scheduled) != 2 {
		t.Fatalf("scheduled = %+v, want 2 events", scheduled)
	}
	for i, want := range []events.Event{reboot, stop} {
		got := scheduled[i]
		nb, err1 := time.Parse(nthScheduledEventLayout, got.NotBefore)
		na, err2 := time.Parse(nthScheduledEventLayout, got.NotAfter)
		if err := errors.Join(err1, err2); err != nil {
			t.Errorf("event %s: %v", got.EventID, err)
			continue
		}
		if got.EventID != want.ID || got.Code != want.Code || got.State != "active" || got.Description == "" ||
			!nb.Equal(want.NotBefore.Truncate(time.Second)) || !na.Equal(want.NotAfter.Truncate(time.Second)) {
			t.Errorf("scheduled[%d] = %+v, want %+v", i, got, want)
		}
	}

	var out struct{ Removed bool }
	if err := p.ctl.Do(context.Background(), "DELETE", events.Path+"/"+reboot.ID+"?instance-id="+id, nil, &out); err != nil || out.Removed {
		t.Fatalf("cancel %s: removed %v, %v", reboot.ID, out.Removed, err)
	}
	scheduled, history := p.maintenance(t, "scheduled"), p.maintenance(t, "history")
	if len(scheduled) != 1 || scheduled[0].EventID != stop.ID {
		t.Errorf("scheduled after cancel = %+v, want only %s", scheduled, stop.ID)
	}
	if len(history) != 1 || history[0].EventID != reboot.ID || history[0].State != "canceled" {
		t.Errorf("history after cancel = %+v, want %s canceled", history, reboot.ID)
	}
}

// maintenance reads events/maintenance/{which} as NTH decodes it.
func (p *planes) maintenance(t *testing.T, which string) []nthScheduledEventDetail {
	t.Helper()
	body, status := p.get(t, "events/maintenance/"+which)
	var list []nthScheduledEventDetail
	if err := json.Unmarshal([]byte(body), &list); status != 200 || err != nil {
		t.Fatalf("events/maintenance/%s = %q (%d): %v", which, body, status, err)
	}
	return list
}

// Ensure an Auto Scaling state set at run time is served.
func TestSDK_AutoScaling(t *testing.T) {
	p := startPlanes(t)
	id := instanceIDOf(t, p)
	p.schedule(t, events.Request{InstanceID: id, Kind: "autoscaling", State: "Terminated"})
	if body, status := p.get(t, "autoscaling/target-lifecycle-state"); status != 200 || body != "Terminated" {
		t.Errorf("target-lifecycle-state = %q (%d), want Terminated", body, status)
	}
}

// instanceIDOf asks the data plane for the instance id, and the control
// plane for its events, which must be none yet.
func instanceIDOf(t *testing.T, p *planes) string {
	t.Helper()
	id, status := p.get(t, "instance-id")
	if status != 200 {
		t.Fatalf("instance-id: %d", status)
	}
	var list events.InstanceEvents
	if err := p.ctl.Do(context.Background(), "GET", events.Path+"?instance-id="+id, nil, &list); err != nil || len(list.Events) != 0 {
		t.Fatalf("events of %s = %+v, %v", id, list, err)
	}
	return id
}

func TestMain(m *testing.M) {
	// Nothing in these tests may reach for a real metadata address or the
	// machine's AWS setup.
	for _, k := range []string{"AWS_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_EC2_METADATA_SERVICE_ENDPOINT"} {
		os.Unsetenv(k)
	}
	os.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	os.Exit(m.Run())
}

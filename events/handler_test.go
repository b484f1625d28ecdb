package events_test

import (
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/imds-dev/imds"
	"github.com/imds-dev/imds/events"
)

var maintenanceIDRe = regexp.MustCompile(`^instance-event-[0-9a-f]{17}$`)

// Ensure a scheduled event is stored, applied and answered with the times
// the request asked for.
func TestHandler_Schedule(t *testing.T) {
	x := newHarness(t)
	tests := []struct {
		name  string
		body  string
		check func(t *testing.T, e events.Event)
	}{
		{"spot terminate in 2m", `{"instanceId":"` + spotID + `","kind":"spot","action":"terminate","in":"2m"}`,
			func(t *testing.T, e events.Event) {
				at := x.now.Add(2 * time.Minute)
				if e.ID != "spot" || e.Kind != "spot" || e.Action != "terminate" || !e.At.Equal(at) ||
					!e.ActionTime.Equal(at.Add(2*time.Minute)) || e.Visible || len(e.Paths) != 2 {
					t.Errorf("event = %+v", e)
				}
				if s := x.lastApplied(t).Events.Spot; s == nil || !s.NoticeTime.Equal(at) {
					t.Errorf("applied spot notice = %+v, want notice at %v", s, at)
				}
			}},
		{"spot defaults to terminate now", `{"instanceId":"` + spotID + `","kind":"spot"}`,
			func(t *testing.T, e events.Event) {
				if e.Action != "terminate" || !e.At.Equal(x.now) || !e.Visible {
					t.Errorf("event = %+v", e)
				}
			}},
		{"spot stop at a time", `{"instanceId":"` + spotID + `","kind":"spot","action":"stop","at":"2026-05-01T13:00:00Z"}`,
			func(t *testing.T, e events.Event) {
				if e.Action != "stop" || e.At != time.Date(2026, 5, 1, 13, 0, 0, 0, time.UTC) || len(e.Paths) != 1 {
					t.Errorf("event = %+v", e)
				}
			}},
		{"rebalance in 30s", `{"instanceId":"` + spotID + `","kind":"rebalance","in":"30s"}`,
			func(t *testing.T, e events.Event) {
				if e.ID != "rebalance" || !e.At.Equal(x.now.Add(30*time.Second)) {
					t.Errorf("event = %+v", e)
				}
			}},
		{"autoscaling on demand", `{"instanceId":"` + onDemandID + `","kind":"autoscaling","state":"Terminated"}`,
			func(t *testing.T, e events.Event) {
				if e.ID != "autoscaling" || e.State != "Terminated" || !e.Visible {
					t.Errorf("event = %+v", e)
				}
			}},
		{"maintenance with defaults", `{"instanceId":"` + onDemandID + `","kind":"maintenance","code":"system-reboot","notBefore":"+24h"}`,
			func(t *testing.T, e events.Event) {
				nb := x.now.Add(24 * time.Hour)
				if !maintenanceIDRe.MatchString(e.ID) || e.State != "active" || e.Description != "scheduled reboot" ||
					!e.NotBefore.Equal(nb) || !e.NotAfter.Equal(nb.Add(2*time.Hour)) || !e.Visible ||
					e.Paths[0] != "meta-data/events/maintenance/scheduled" {
					t.Errorf("event = %+v", e)
				}
			}},
		{"maintenance in full", `{"instanceId":"` + onDemandID + `","kind":"maintenance","code":"instance-stop","in":"1m",` +
			`"description":"hardware","notBefore":"2026-05-03T00:00:00Z","notAfter":"2026-05-03T04:00:00Z","notBeforeDeadline":"+72h"}`,
			func(t *testing.T, e events.Event) {
				if e.Description != "hardware" || e.Visible || !e.At.Equal(x.now.Add(time.Minute)) ||
					e.NotAfter != time.Date(2026, 5, 3, 4, 0, 0, 0, time.UTC) || !e.NotBeforeDeadline.Equal(x.now.Add(72*time.Hour)) {
					t.Errorf("event = %+v", e)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := x.do(t, "POST", events.Path, tt.body)
			if w.Code != http.StatusCreated {
				t.Fatalf("POST = %d %s, want 201", w.Code, w.Body)
			}
			var e events.Event
			decode(t, w, &e)
			if loc := w.Header().Get("Location"); !strings.HasPrefix(loc, events.Path+"/"+e.ID+"?instance-id=i-") {
				t.Errorf("Location = %q", loc)
			}
			tt.check(t, e)
		})
	}
}

// Ensure bad requests get a 4xx JSON error naming the field at fault, and
// change nothing.
func TestHandler_ScheduleRefused(t *testing.T) {
	x := newHarness(t)
	tests := []struct {
		name   string
		body   string
		status int
		code   string
		field  string
	}{
		{"empty body", ``, 400, "InvalidEvent", "body"},
		{"not an object", `[]`, 400, "InvalidEvent", "body"},
		{"null", `null`, 400, "InvalidEvent", "instanceId"},
		{"broken JSON", `{"kind":`, 400, "InvalidEvent", "body"},
		{"trailing data", `{"instanceId":"` + spotID + `","kind":"spot"} {}`, 400, "InvalidEvent", "body"},
		{"unknown field", `{"instanceId":"` + spotID + `","kind":"spot","when":"now"}`, 400, "InvalidEvent", "body"},
		{"number for a string", `{"instanceId":"` + spotID + `","kind":"spot","in":120}`, 400, "InvalidEvent", "body"},
		{"no instance", `{"kind":"spot"}`, 400, "InvalidEvent", "instanceId"},
		{"unknown kind", `{"instanceId":"` + spotID + `","kind":"reboot"}`, 400, "InvalidEvent", "kind"},
		{"field of another kind", `{"instanceId":"` + spotID + `","kind":"rebalance","action":"stop"}`, 400, "InvalidEvent", "action"},
		{"in and at", `{"instanceId":"` + spotID + `","kind":"spot","in":"1m","at":"2026-05-01T13:00:00Z"}`, 400, "InvalidEvent", "in"},
		{"negative in", `{"instanceId":"` + spotID + `","kind":"spot","in":"-1m"}`, 400, "InvalidEvent", "in"},
		{"bad in", `{"instanceId":"` + spotID + `","kind":"spot","in":"soon"}`, 400, "InvalidEvent", "in"},
		{"bad at", `{"instanceId":"` + spotID + `","kind":"spot","at":"tomorrow"}`, 400, "InvalidEvent", "at"},
		{"bad spot action", `{"instanceId":"` + spotID + `","kind":"spot","action":"reboot"}`, 400, "InvalidEvent", "action"},
		{"spot on demand", `{"instanceId":"` + onDemandID + `","kind":"spot"}`, 400, "InvalidEvent", "events.spot"},
		{"rebalance on demand", `{"instanceId":"` + onDemandID + `","kind":"rebalance"}`, 400, "InvalidEvent", "events.rebalance"},
		{"autoscaling without state", `{"instanceId":"` + spotID + `","kind":"autoscaling"}`, 400, "InvalidEvent", "state"},
		{"bad autoscaling state", `{"instanceId":"` + spotID + `","kind":"autoscaling","state":"Gone"}`, 400, "InvalidEvent", "state"},
		{"maintenance without code", `{"instanceId":"` + spotID + `","kind":"maintenance","notBefore":"+1h"}`, 400, "InvalidEvent", "code"},
		{"maintenance without start", `{"instanceId":"` + spotID + `","kind":"maintenance","code":"system-reboot"}`, 400, "InvalidEvent", "notBefore"},
		{"bad maintenance code", `{"instanceId":"` + spotID + `","kind":"maintenance","code":"explode","notBefore":"+1h"}`, 400, "InvalidEvent", "code"},
		{"bad maintenance time", `{"instanceId":"` + spotID + `","kind":"maintenance","code":"system-reboot","notBefore":"monday"}`, 400, "InvalidEvent", "notBefore"},
		{"end before start", `{"instanceId":"` + spotID + `","kind":"maintenance","code":"system-reboot","notBefore":"+2h","notAfter":"+1h"}`, 400, "InvalidEvent", "notAfter"},
		{"bad maintenance state", `{"instanceId":"` + spotID + `","kind":"maintenance","code":"system-reboot","notBefore":"+1h","state":"done"}`, 400, "InvalidEvent", "state"},
		{"description on two lines", `{"instanceId":"` + spotID + `","kind":"maintenance","code":"system-reboot","notBefore":"+1h","description":"a\nb"}`, 400, "InvalidEvent", "description"},
		{"unknown instance", `{"instanceId":"i-00000000000000000","kind":"spot"}`, 404, "InvalidInstanceID.NotFound", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := x.do(t, "POST", events.Path, tt.body)
			var e errorBody
			decode(t, w, &e)
			if w.Code != tt.status || e.Code != tt.code || e.Field != tt.field || e.Message == "" {
				t.Errorf("POST %s = %d %+v, want %d %s field %q", tt.body, w.Code, e, tt.status, tt.code, tt.field)
			}
		})
	}
	if len(x.applied) != 0 {
		t.Errorf("refused requests applied %d changes", len(x.applied))
	}
	for _, id := range []string{spotID, onDemandID} {
		w := x.do(t, "GET", events.Path+"?instance-id="+id, "")
		var list events.InstanceEvents
		decode(t, w, &list)
		if len(list.Events) != 0 {
			t.Errorf("%s has events after refused requests: %+v", id, list.Events)
		}
	}
}

// Ensure an unknown instance is named in the 404.
func TestHandler_UnknownInstance(t *testing.T) {
	x := newHarness(t)
	for _, target := range []string{
		events.Path + "?instance-id=i-00000000000000000",
		events.Path + "/spot?instance-id=i-00000000000000000",
	} {
		method := "GET"
		if strings.Contains(target, "/spot") {
			method = "DELETE"
		}
		w := x.do(t, method, target, "")
		var e errorBody
		decode(t, w, &e)
		if w.Code != 404 || e.Code != "InvalidInstanceID.NotFound" || !strings.Contains(e.Message, "i-00000000000000000") {
			t.Errorf("%s %s = %d %+v", method, target, w.Code, e)
		}
	}
}

// Ensure the list shows each instance's events with their visibility, one
// instance or all of them.
func TestHandler_List(t *testing.T) {
	x := newHarness(t)
	x.post(t, `{"instanceId":"`+spotID+`","kind":"spot","in":"2m"}`)
	x.post(t, `{"instanceId":"`+spotID+`","kind":"rebalance"}`)
	m := x.post(t, `{"instanceId":"`+spotID+`","kind":"maintenance","code":"system-maintenance","notBefore":"+1h"}`)

	w := x.do(t, "GET", events.Path+"?instance-id="+spotID, "")
	var one events.InstanceEvents
	decode(t, w, &one)
	got := make([]string, len(one.Events))
	for i, e := range one.Events {
		got[i] = e.ID + "/" + map[bool]string{true: "visible", false: "pending"}[e.Visible]
	}
	want := "spot/pending rebalance/visible " + m.ID + "/visible"
	if w.Code != 200 || one.InstanceID != spotID || one.LifeCycle != "spot" || strings.Join(got, " ") != want {
		t.Errorf("GET one = %d %s %v, want %s", w.Code, one.InstanceID, got, want)
	}

	x.now = x.now.Add(2 * time.Minute)
	w = x.do(t, "GET", events.Path, "")
	var all events.List
	decode(t, w, &all)
	if len(all.Instances) != 2 || all.Instances[0].InstanceID != spotID || all.Instances[1].InstanceID != onDemandID {
		t.Fatalf("GET all = %+v", all)
	}
	if s := all.Instances[0].Events[0]; !s.Visible {
		t.Errorf("spot notice not visible at its time: %+v", s)
	}
	if n := len(all.Instances[1].Events); n != 0 {
		t.Errorf("on-demand instance has %d events, want 0", n)
	}
}

// Ensure cancelling removes Spot, rebalance and Auto Scaling events, moves
// a shown maintenance event to the history as canceled, and removes one
// not shown yet.
func TestHandler_Cancel(t *testing.T) {
	x := newHarness(t)
	x.post(t, `{"instanceId":"`+spotID+`","kind":"spot","in":"2m"}`)
	x.post(t, `{"instanceId":"`+spotID+`","kind":"rebalance"}`)
	x.post(t, `{"instanceId":"`+spotID+`","kind":"autoscaling","state":"InService"}`)
	shown := x.post(t, `{"instanceId":"`+spotID+`","kind":"maintenance","code":"system-reboot","notBefore":"+1h"}`)
	later := x.post(t, `{"instanceId":"`+spotID+`","kind":"maintenance","code":"system-reboot","notBefore":"+1h","in":"10m"}`)

	tests := []struct {
		id      string
		removed bool
		state   string
	}{
		{"spot", true, ""},
		{"rebalance", true, ""},
		{"autoscaling", true, "InService"},
		{shown.ID, false, "canceled"},
		{later.ID, true, "active"},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			w := x.do(t, "DELETE", events.Path+"/"+tt.id+"?instance-id="+spotID, "")
			var got struct {
				Event   events.Event
				Removed bool
			}
			decode(t, w, &got)
			if w.Code != 200 || got.Event.ID != tt.id || got.Removed != tt.removed || got.Event.State != tt.state {
				t.Errorf("DELETE = %d %+v, want removed %v state %q", w.Code, got, tt.removed, tt.state)
			}
		})
	}

	ev := x.lastApplied(t).Events
	if ev.Spot != nil || ev.Rebalance != nil || ev.AutoScaling != nil || len(ev.Maintenance) != 1 ||
		ev.Maintenance[0].ID != shown.ID || ev.Maintenance[0].State != imds.EventCanceled {
		t.Errorf("applied events after cancelling = %+v", ev)
	}

	for _, tt := range []struct {
		target string
		status int
		code   string
	}{
		{events.Path + "/" + shown.ID + "?instance-id=" + spotID, 409, "IncorrectEventState"},
		{events.Path + "/spot?instance-id=" + spotID, 404, "InvalidEventID.NotFound"},
		{events.Path + "/spot", 400, "MissingParameter"},
	} {
		w := x.do(t, "DELETE", tt.target, "")
		var e errorBody
		decode(t, w, &e)
		if w.Code != tt.status || e.Code != tt.code {
			t.Errorf("DELETE %s = %d %+v, want %d %s", tt.target, w.Code, e, tt.status, tt.code)
		}
	}
}

// Ensure wrong methods and paths get JSON errors, and unsigned or wrongly
// signed requests are refused before anything is read.
func TestHandler_Refusals(t *testing.T) {
	x := newHarness(t)
	for _, tt := range []struct {
		method, target string
		status         int
		code           string
	}{
		{"PUT", events.Path, 405, "MethodNotAllowed"},
		{"DELETE", events.Path, 405, "MethodNotAllowed"},
		{"GET", events.Path + "/spot", 405, "MethodNotAllowed"},
		{"DELETE", events.Path + "/", 404, "NotFound"},
		{"DELETE", events.Path + "/spot/x", 404, "NotFound"},
		{"GET", events.Path + "x", 404, "NotFound"},
	} {
		w := x.do(t, tt.method, tt.target, "")
		var e errorBody
		decode(t, w, &e)
		if w.Code != tt.status || e.Code != tt.code {
			t.Errorf("%s %s = %d %+v, want %d %s", tt.method, tt.target, w.Code, e, tt.status, tt.code)
		}
	}

	unsigned := httptest.NewRequest("POST", events.Path, strings.NewReader(`{"instanceId":"`+spotID+`","kind":"spot"}`))
	w := httptest.NewRecorder()
	x.h.ServeHTTP(w, unsigned)
	if w.Code < 400 || w.Code >= 500 || len(x.applied) != 0 {
		t.Errorf("unsigned POST = %d %s, applied %d", w.Code, w.Body, len(x.applied))
	}
}

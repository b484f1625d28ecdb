package rule

import (
	"errors"
	"reflect"
	"testing"
	"time"
)

var testNow = time.Date(2026, 12, 4, 16, 0, 0, 0, time.UTC)

// Ensure Parse fills defaults, resolves relative windows and reads every
// field of a valid rule.
func TestParse(t *testing.T) {
	for _, tt := range []struct {
		name string
		json string
		want Rule
	}{
		{"throttle defaults", `{"kind":"throttle"}`,
			Rule{Instance: "*", Path: "/", Kind: Throttle}},
		{"error default status", `{"kind":"error","path":"/latest/meta-data/iam/","count":2}`,
			Rule{Instance: "*", Path: "/latest/meta-data/iam/", Kind: Error, Status: 500, Count: 2}},
		{"methods upper case, once", `{"kind":"drop","methods":["put","PUT","get"],"instance":"i-0abc"}`,
			Rule{Instance: "i-0abc", Path: "/", Methods: []string{"PUT", "GET"}, Kind: Drop}},
		{"latency", `{"id":"slow","kind":"latency","latency":"1.5s"}`,
			Rule{ID: "slow", Instance: "*", Path: "/", Kind: Latency, Latency: 1500 * time.Millisecond}},
		{"after and for", `{"kind":"error","status":503,"after":"30s","for":"1m"}`,
			Rule{Instance: "*", Path: "/", Kind: Error, Status: 503,
				From: testNow.Add(30 * time.Second), Until: testNow.Add(90 * time.Second)}},
		{"for alone starts now", `{"kind":"throttle","for":"10s"}`,
			Rule{Instance: "*", Path: "/", Kind: Throttle, Until: testNow.Add(10 * time.Second)}},
		{"absolute window", `{"kind":"drop","from":"2026-12-04T17:00:00+01:00","until":"2026-12-04T16:30:00Z"}`,
			Rule{Instance: "*", Path: "/", Kind: Drop, From: testNow, Until: testNow.Add(30 * time.Minute)}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse([]byte(tt.json), testNow)
			if err != nil {
				t.Fatalf("Parse(%s) = %v", tt.json, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Parse(%s) = %+v, want %+v", tt.json, got, tt.want)
			}
		})
	}
}

// Ensure Parse refuses bad rules with an error that names the field.
func TestParse_Errors(t *testing.T) {
	for _, tt := range []struct {
		name, json, field string
	}{
		{"no kind", `{}`, "kind"},
		{"null", `null`, "kind"},
		{"unknown kind", `{"kind":"explode"}`, "kind"},
		{"unknown field", `{"kind":"drop","colour":"red"}`, "colour"},
		{"count as string", `{"kind":"drop","count":"3"}`, "count"},
		{"count fraction", `{"kind":"drop","count":1.5}`, "count"},
		{"negative count", `{"kind":"drop","count":-1}`, "count"},
		{"huge count", `{"kind":"drop","count":99999999999}`, "count"},
		{"methods not a list", `{"kind":"drop","methods":"GET"}`, "methods"},
		{"bad method", `{"kind":"drop","methods":["GET","BREW"]}`, "methods[1]"},
		{"relative path", `{"kind":"drop","path":"latest/"}`, "path"},
		{"path with query", `{"kind":"drop","path":"/latest?x"}`, "path"},
		{"path with space", `{"kind":"drop","path":"/a b"}`, "path"},
		{"instance with slash", `{"kind":"drop","instance":"i-1/2"}`, "instance"},
		{"bad id", `{"kind":"drop","id":"a/b"}`, "id"},
		{"dot id", `{"kind":"drop","id":".."}`, "id"},
		{"latency missing", `{"kind":"latency"}`, "latency"},
		{"latency bad", `{"kind":"latency","latency":"soon"}`, "latency"},
		{"latency too long", `{"kind":"latency","latency":"1h"}`, "latency"},
		{"latency on error", `{"kind":"error","latency":"1s"}`, "latency"},
		{"status 404", `{"kind":"error","status":404}`, "status"},
		{"status on throttle", `{"kind":"throttle","status":429}`, "status"},
		{"window backwards", `{"kind":"drop","from":"2026-12-05T00:00:00Z","until":"2026-12-04T23:00:00Z"}`, "until"},
		{"window over", `{"kind":"drop","until":"2026-12-04T15:00:00Z"}`, "until"},
		{"bad from", `{"kind":"drop","from":"tomorrow"}`, "from"},
		{"after and from", `{"kind":"drop","after":"1s","from":"2026-12-05T00:00:00Z"}`, "after"},
		{"negative after", `{"kind":"drop","after":"-1s"}`, "after"},
		{"zero for", `{"kind":"drop","for":"0s"}`, "for"},
		{"for and until", `{"kind":"drop","for":"1m","until":"2026-12-05T00:00:00Z"}`, "for"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.json), testNow)
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field != tt.field {
				t.Errorf("Parse(%s) = %v, want an error about %s", tt.json, err, tt.field)
			}
		})
	}
}

// Ensure Parse refuses what is not one JSON object with a plain error.
func TestParse_NotAnObject(t *testing.T) {
	for _, tt := range []struct{ name, json string }{
		{"empty", ``},
		{"array", `[{"kind":"drop"}]`},
		{"two objects", `{"kind":"drop"} {"kind":"drop"}`},
		{"truncated", `{"kind":"dr`},
		{"garbage", `kind=drop`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.json), testNow)
			var fe *FieldError
			if err == nil || errors.As(err, &fe) {
				t.Errorf("Parse(%q) = %v, want a plain error", tt.json, err)
			}
		})
	}
}

// Ensure Matches applies instance, path prefix and methods.
func TestRule_Matches(t *testing.T) {
	r := Rule{Instance: "i-1", Path: "/latest/api/token", Methods: []string{"PUT"}, Kind: Drop}
	if err := r.Check(testNow); err != nil {
		t.Fatal(err)
	}
	all := Rule{Kind: Drop}
	if err := all.Check(testNow); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		rule                   *Rule
		instance, method, path string
		want                   bool
	}{
		{&r, "i-1", "PUT", "/latest/api/token", true},
		{&r, "i-2", "PUT", "/latest/api/token", false},
		{&r, "i-1", "GET", "/latest/api/token", false},
		{&r, "i-1", "PUT", "/latest/api/tok", false},
		{&all, "i-9", "POST", "/anything", true},
	} {
		if got := tt.rule.Matches(tt.instance, tt.method, tt.path); got != tt.want {
			t.Errorf("%s Matches(%s, %s, %s) = %v, want %v", tt.rule.Path, tt.instance, tt.method, tt.path, got, tt.want)
		}
	}
}

// Ensure a window opens at From and closes at Until, both included and
// excluded as documented, and that open sides never close.
func TestRule_Window(t *testing.T) {
	r := Rule{From: testNow, Until: testNow.Add(time.Minute)}
	for _, tt := range []struct {
		at             time.Time
		started, ended bool
	}{
		{testNow.Add(-time.Second), false, false},
		{testNow, true, false},
		{testNow.Add(time.Minute - 1), true, false},
		{testNow.Add(time.Minute), true, true},
	} {
		if r.Started(tt.at) != tt.started || r.Ended(tt.at) != tt.ended {
			t.Errorf("at %s: started %v ended %v, want %v %v", tt.at, r.Started(tt.at), r.Ended(tt.at), tt.started, tt.ended)
		}
	}
	var open Rule
	if !open.Started(time.Time{}) || open.Ended(testNow.AddDate(100, 0, 0)) {
		t.Error("a rule without a window should always apply")
	}
}

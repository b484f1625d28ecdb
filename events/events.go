// Package events schedules, lists and cancels the notices EC2 posts to an
// instance (Spot interruptions, rebalance recommendations, maintenance
// events, Auto Scaling lifecycle states) while imds runs: signed JSON
// endpoints on the control listener, used by `imds event`. A change is
// stored and handed to the data plane before the answer, so a notice due
// now is served by the time the caller hears back, and one due later
// appears on its own at its time.
package events

import (
	"slices"
	"strings"
	"time"

	"github.com/imds-dev/imds"
)

// Path is where the event endpoints live on the control listener.
const Path = "/imds/events"

// Kinds of event, as requests and answers spell them.
const (
	KindSpot        = "spot"
	KindRebalance   = "rebalance"
	KindMaintenance = "maintenance"
	KindAutoScaling = "autoscaling"
)

// An instance has at most one Spot notice, one rebalance recommendation and
// one Auto Scaling state, so those events are named by their kind;
// maintenance events carry EC2's instance-event- ids.
const (
	idSpot        = KindSpot
	idRebalance   = KindRebalance
	idAutoScaling = KindAutoScaling
)

// Event is one notice of an instance as the endpoints show it. Times are
// left out when they do not apply.
type Event struct {
	ID         string `json:"id"`
	InstanceID string `json:"instanceId"`
	Kind       string `json:"kind"`
	// At is when the event appears in the metadata; zero for a maintenance
	// event that has always been there.
	At time.Time `json:"at,omitzero"`
	// Visible reports whether the metadata shows the event now.
	Visible bool `json:"visible"`
	// Paths are the metadata paths that show it, under /latest/.
	Paths []string `json:"paths"`

	Action     string    `json:"action,omitempty"`    // spot: terminate, stop or hibernate
	ActionTime time.Time `json:"actionTime,omitzero"` // spot: when the action is taken
	// State is the lifecycle state of an Auto Scaling event, or the state
	// of a maintenance event (active, completed, canceled).
	State             string    `json:"state,omitempty"`
	Code              string    `json:"code,omitempty"`
	Description       string    `json:"description,omitempty"`
	NotBefore         time.Time `json:"notBefore,omitzero"`
	NotAfter          time.Time `json:"notAfter,omitzero"`
	NotBeforeDeadline time.Time `json:"notBeforeDeadline,omitzero"`
}

// InstanceEvents is the answer to a list: one instance and its events.
type InstanceEvents struct {
	InstanceID string  `json:"instanceId"`
	LifeCycle  string  `json:"lifeCycle"`
	Events     []Event `json:"events"`
}

// List is the answer to a list of every instance.
type List struct {
	Instances []InstanceEvents `json:"instances"`
}

// listOf returns the events of in as they stand at now: Spot, rebalance,
// Auto Scaling, then maintenance events in their stored order.
func listOf(in *imds.Instance, now time.Time) InstanceEvents {
	out := InstanceEvents{InstanceID: in.ID, LifeCycle: in.LifeCycle, Events: []Event{}}
	ev := in.Events
	if s := ev.Spot; s != nil {
		out.Events = append(out.Events, spotEvent(in.ID, s, now))
	}
	if r := ev.Rebalance; r != nil {
		out.Events = append(out.Events, Event{
			ID: idRebalance, InstanceID: in.ID, Kind: KindRebalance,
			At: r.NoticeTime, Visible: visible(r.NoticeTime, now),
			Paths: []string{"meta-data/events/recommendations/rebalance"},
		})
	}
	if a := ev.AutoScaling; a != nil {
		out.Events = append(out.Events, Event{
			ID: idAutoScaling, InstanceID: in.ID, Kind: KindAutoScaling,
			At: a.Since, Visible: a.State != "" && visible(a.Since, now), State: a.State,
			Paths: []string{"meta-data/autoscaling/target-lifecycle-state"},
		})
	}
	for _, m := range ev.Maintenance {
		out.Events = append(out.Events, maintenanceEvent(in.ID, m, now))
	}
	return out
}

func spotEvent(id string, s *imds.SpotNotice, now time.Time) Event {
	paths := []string{"meta-data/spot/instance-action"}
	if s.Action == imds.SpotTerminate {
		paths = append(paths, "meta-data/spot/termination-time")
	}
	return Event{
		ID: idSpot, InstanceID: id, Kind: KindSpot,
		At: s.NoticeTime, Visible: visible(s.NoticeTime, now), Paths: paths,
		Action: s.Action, ActionTime: s.ActionTime,
	}
}

func maintenanceEvent(id string, m imds.MaintenanceEvent, now time.Time) Event {
	state := m.State
	if state == "" {
		state = imds.EventActive
	}
	path := "meta-data/events/maintenance/history"
	if state == imds.EventActive {
		path = "meta-data/events/maintenance/scheduled"
	}
	return Event{
		ID: m.ID, InstanceID: id, Kind: KindMaintenance,
		At: m.PostedAt, Visible: visible(m.PostedAt, now), Paths: []string{path},
		State: state, Code: m.Code, Description: m.Description,
		NotBefore: m.NotBefore, NotAfter: m.NotAfter, NotBeforeDeadline: m.NotBeforeDeadline,
	}
}

// find returns the event named id among those of in.
func find(in *imds.Instance, id string, now time.Time) (Event, bool) {
	list := listOf(in, now).Events
	i := slices.IndexFunc(list, func(e Event) bool { return e.ID == id })
	if i < 0 {
		return Event{}, false
	}
	return list[i], true
}

func sortInstances(list []InstanceEvents) {
	slices.SortFunc(list, func(a, b InstanceEvents) int { return strings.Compare(a.InstanceID, b.InstanceID) })
}

// visible reports whether something appearing at t shows at now, the same
// rule the tree builder applies: a zero time means always.
func visible(t, now time.Time) bool { return t.IsZero() || !now.Before(t) }

package tree

import (
	"github.com/imds-dev/imds"
	"github.com/imds-dev/imds/creds"
	"github.com/imds-dev/imds/internal/ec2json"
)

// EventTimeLayout is the date format of maintenance events (not ISO 8601).
// Days are not zero-padded, as in the user guide's examples.
const EventTimeLayout = "2 Jan 2006 15:04:05 GMT"

// buildEvents renders the notices visible at the build time: spot/,
// events/ and autoscaling/.
func buildEvents(b *builder, ev imds.Events, v *validity) {
	if s := ev.Spot; s != nil && v.visible(s.NoticeTime) {
		when := s.ActionTime.UTC().Format(creds.TimeLayout)
		b.text("meta-data/spot/instance-action", `{"action": "`+s.Action+`", "time": "`+when+`"}`)
		if s.Action == imds.SpotTerminate {
			b.text("meta-data/spot/termination-time", when)
		}
	}
	if r := ev.Rebalance; r != nil && v.visible(r.NoticeTime) {
		b.text("meta-data/events/recommendations/rebalance",
			`{"noticeTime": "`+r.NoticeTime.UTC().Format(creds.TimeLayout)+`"}`)
	}
	if a := ev.AutoScaling; a != nil && a.State != "" && v.visible(a.Since) {
		b.text("meta-data/autoscaling/target-lifecycle-state", a.State)
	}

	var scheduled, history [][]ec2json.Member
	for _, e := range ev.Maintenance {
		if !v.visible(e.PostedAt) {
			continue
		}
		if e.State == imds.EventActive || e.State == "" {
			scheduled = append(scheduled, maintenanceMembers(e))
		} else {
			history = append(history, maintenanceMembers(e))
		}
	}
	b.text("meta-data/events/maintenance/scheduled", string(ec2json.Array(scheduled)))
	b.text("meta-data/events/maintenance/history", string(ec2json.Array(history)))
}

// maintenanceMembers lays out one event in the documented key order.
func maintenanceMembers(e imds.MaintenanceEvent) []ec2json.Member {
	state := e.State
	if state == "" {
		state = imds.EventActive
	}
	m := []ec2json.Member{
		{Key: "NotBefore", Value: e.NotBefore.UTC().Format(EventTimeLayout)},
		{Key: "Code", Value: e.Code},
		{Key: "Description", Value: e.Description},
		{Key: "EventId", Value: e.ID},
	}
	// NotAfter is always present: an empty value broke
	// aws-node-termination-handler's parser (BL-10).
	notAfter := e.NotAfter
	if notAfter.IsZero() {
		notAfter = e.NotBefore
	}
	m = append(m,
		ec2json.Member{Key: "NotAfter", Value: notAfter.UTC().Format(EventTimeLayout)},
		ec2json.Member{Key: "State", Value: state})
	if !e.NotBeforeDeadline.IsZero() {
		m = append(m, ec2json.Member{Key: "NotBeforeDeadline", Value: e.NotBeforeDeadline.UTC().Format(EventTimeLayout)})
	}
	return m
}

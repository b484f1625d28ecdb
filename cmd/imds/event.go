package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"strings"
	"text/tabwriter"

	"github.com/imds-dev/imds/events"
	"github.com/imds-dev/imds/internal/signedclient"
)

const eventUsage = `Usage:
  imds event spot        [--instance-id ID] [--action terminate|stop|hibernate] [--in 2m | --at TIME]
  imds event rebalance   [--instance-id ID] [--in 30s | --at TIME]
  imds event maintenance [--instance-id ID] --code CODE --not-before +24h [--not-after WHEN]
                         [--not-before-deadline WHEN] [--description TEXT] [--in D | --at TIME]
  imds event autoscaling [--instance-id ID] --state STATE [--in D | --at TIME]
  imds event list        [--instance-id ID] [--json]
  imds event cancel      [--instance-id ID] EVENT_ID

The first four post a notice to an instance of a running imds, from now,
after --in, or at --at (RFC 3339); it appears in the instance's metadata on
its own at that time. A Spot notice names an action time two minutes after
the notice, as EC2's does; imds reports it and leaves the instance running.
Maintenance times (WHEN) are RFC 3339 or a duration from now such as +24h.
list shows the events and whether they are visible yet; cancel removes an
event (spot, rebalance, autoscaling, or a maintenance event's id), and moves
a maintenance event already shown to the history as canceled, as EC2 does.
--instance-id may be left out when the server has one instance.
`

// runEvent implements "imds event": it schedules, lists and cancels the
// events of a running imds's instances through the control listener,
// signed with the control credentials.
func runEvent(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	schedule := func(kind string) action {
		return action{kind, func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
			return runEventSchedule(ctx, kind, args, stdout, stderr)
		}}
	}
	return runAction(ctx, "event", eventUsage, []action{
		schedule(events.KindSpot), schedule(events.KindRebalance),
		schedule(events.KindMaintenance), schedule(events.KindAutoScaling),
		{"list", runEventList}, {"cancel", runEventCancel},
	}, args, stdout, stderr)
}

// eventFlags are the flags every action takes: how to reach the server
// and which instance.
type eventFlags struct {
	controlClientFlags
	instanceID string
}

func newEventFlags(name string, stderr io.Writer) (*flag.FlagSet, *eventFlags) {
	fs := flag.NewFlagSet("event "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	ef := &eventFlags{}
	ef.register(fs)
	fs.StringVar(&ef.instanceID, "instance-id", "", "the instance `ID` (default the server's only instance)")
	return fs, ef
}

// instance returns --instance-id, or asks the server for its instances
// and takes the only one.
func (ef *eventFlags) instance(ctx context.Context, c *signedclient.Client) (string, error) {
	if ef.instanceID != "" {
		return ef.instanceID, nil
	}
	var all events.List
	if err := c.Do(ctx, "GET", events.Path, nil, &all); err != nil {
		return "", fmt.Errorf("list instances: %w", eventError(err))
	}
	switch n := len(all.Instances); n {
	case 0:
		return "", errors.New("the server has no instances")
	case 1:
		return all.Instances[0].InstanceID, nil
	default:
		ids := make([]string, 0, 3)
		for _, in := range all.Instances[:min(n, 3)] {
			ids = append(ids, in.InstanceID)
		}
		more := ""
		if n > 3 {
			more = ", ..."
		}
		return "", fmt.Errorf("the server has %d instances (%s%s); choose one with --instance-id", n, strings.Join(ids, ", "), more)
	}
}

func runEventSchedule(ctx context.Context, kind string, args []string, stdout, stderr io.Writer) error {
	fs, ef := newEventFlags(kind, stderr)
	req := events.Request{Kind: kind}
	fs.StringVar(&req.In, "in", "", "post the event this `duration` from now, such as 2m (default now)")
	fs.StringVar(&req.At, "at", "", "post the event at this RFC 3339 `time` instead")
	switch kind {
	case events.KindSpot:
		fs.StringVar(&req.Action, "action", "terminate", "what the interruption does: terminate, stop or hibernate")
	case events.KindAutoScaling:
		fs.StringVar(&req.State, "state", "", "target lifecycle `state`, such as InService or Terminated (required)")
	case events.KindMaintenance:
		fs.StringVar(&req.Code, "code", "", "event `code`: instance-reboot, system-reboot, system-maintenance, instance-retirement or instance-stop (required)")
		fs.StringVar(&req.NotBefore, "not-before", "", "earliest start, RFC 3339 or a duration from now such as +24h (required)")
		fs.StringVar(&req.NotAfter, "not-after", "", "latest end (default two hours after --not-before)")
		fs.StringVar(&req.NotBeforeDeadline, "not-before-deadline", "", "latest the event may be rescheduled to (default none)")
		fs.StringVar(&req.Description, "description", "", "event description (default EC2's text for the code)")
		fs.StringVar(&req.State, "state", "", "event state: active (default), completed or canceled")
	}
	asJSON := fs.Bool("json", false, "print the event as JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("event %s: unexpected argument %q", kind, fs.Arg(0))
	}

	c, err := ef.client(ctx)
	if err != nil {
		return err
	}
	if req.InstanceID, err = ef.instance(ctx, c); err != nil {
		return fmt.Errorf("event %s: %w", kind, err)
	}
	var e events.Event
	if err := c.Do(ctx, "POST", events.Path, req, &e); err != nil {
		return fmt.Errorf("event %s: %w", kind, eventError(err))
	}
	if *asJSON {
		return printJSON(stdout, e)
	}
	return printEvents(stdout, []events.Event{e})
}

func runEventList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, ef := newEventFlags("list", stderr)
	asJSON := fs.Bool("json", false, "print the events as JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("event list: unexpected argument %q", fs.Arg(0))
	}
	c, err := ef.client(ctx)
	if err != nil {
		return err
	}

	// Without --instance-id every instance is listed, which is the only
	// one when the server has one.
	var list events.List
	if ef.instanceID == "" {
		err = c.Do(ctx, "GET", events.Path, nil, &list)
	} else {
		var one events.InstanceEvents
		err = c.Do(ctx, "GET", events.Path+"?instance-id="+url.QueryEscape(ef.instanceID), nil, &one)
		list.Instances = []events.InstanceEvents{one}
	}
	if err != nil {
		return fmt.Errorf("event list: %w", eventError(err))
	}
	if *asJSON {
		if ef.instanceID != "" {
			return printJSON(stdout, list.Instances[0])
		}
		return printJSON(stdout, list)
	}
	var all []events.Event
	for _, in := range list.Instances {
		all = append(all, in.Events...)
	}
	if len(all) == 0 {
		_, err := fmt.Fprintln(stdout, "no events")
		return err
	}
	return printEvents(stdout, all)
}

func runEventCancel(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, ef := newEventFlags("cancel", stderr)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 || fs.Arg(0) == "" {
		return errors.New("event cancel: give one event id (spot, rebalance, autoscaling or instance-event-...)")
	}
	id := fs.Arg(0)
	c, err := ef.client(ctx)
	if err != nil {
		return err
	}
	instanceID, err := ef.instance(ctx, c)
	if err != nil {
		return fmt.Errorf("event cancel: %w", err)
	}
	var out struct {
		Event   events.Event `json:"event"`
		Removed bool         `json:"removed"`
	}
	path := events.Path + "/" + url.PathEscape(id) + "?instance-id=" + url.QueryEscape(instanceID)
	if err := c.Do(ctx, "DELETE", path, nil, &out); err != nil {
		return fmt.Errorf("event cancel: %w", eventError(err))
	}
	what := "removed"
	if !out.Removed {
		what = "canceled; it stays in events/maintenance/history"
	}
	_, err = fmt.Fprintf(stdout, "%s %s on %s: %s\n", out.Event.Kind, id, instanceID, what)
	return err
}

// eventFlagNames maps the request fields an error can name to the flags
// that set them.
var eventFlagNames = map[string]string{
	"instanceId": "--instance-id", "in": "--in", "at": "--at", "action": "--action", "state": "--state",
	"code": "--code", "description": "--description", "notBefore": "--not-before",
	"notAfter": "--not-after", "notBeforeDeadline": "--not-before-deadline",
}

// eventError is controlError with the field at fault, named as the flag
// that sets it where there is one.
func eventError(err error) error {
	var se *signedclient.Error
	if !errors.As(err, &se) {
		return err
	}
	var body struct{ Code, Message, Field string }
	if json.Unmarshal([]byte(se.Body), &body) != nil || body.Field == "" || body.Message == "" {
		return controlError(err)
	}
	field := body.Field
	if f, ok := eventFlagNames[field]; ok {
		field = f
	}
	return fmt.Errorf("%s: %s (%s)", field, body.Message, body.Code)
}

// printEvents writes one row per event.
func printEvents(w io.Writer, list []events.Event) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "INSTANCE\tID\tKIND\tSHOWN\tFROM\tDETAIL")
	for _, e := range list {
		shown := "pending"
		if e.Visible {
			shown = "yes"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", e.InstanceID, e.ID, e.Kind, shown, tableTime(e.At), eventDetail(e))
	}
	return tw.Flush()
}

// eventDetail is the kind-specific part of a row.
func eventDetail(e events.Event) string {
	switch e.Kind {
	case events.KindSpot:
		return e.Action + " at " + tableTime(e.ActionTime)
	case events.KindAutoScaling:
		return e.State
	case events.KindMaintenance:
		return fmt.Sprintf("%s %s, %s to %s", e.Code, e.State, tableTime(e.NotBefore), tableTime(e.NotAfter))
	}
	return "-"
}

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/imds-dev/imds/fault"
	"github.com/imds-dev/imds/fault/rule"
)

const faultUsage = `Usage:
  imds fault add --kind KIND [--path PREFIX] [--instance ID] [--method M]... [flags]
  imds fault list [--json]
  imds fault clear [ID]

add puts a fault-injection rule on a running imds: latency (--latency 2s),
error (--status 500 or 503), throttle (EC2's 429) or drop (close the
connection unanswered), for --count requests and/or a window (--after 30s
--for 1m, or --from/--until in RFC 3339). list shows the rules in force;
clear removes one rule, or all of them.
`

// runFault implements "imds fault": it adds, lists and clears the fault
// rules of a running imds through the control listener, signed with the
// control credentials.
func runFault(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return runAction(ctx, "fault", faultUsage, []action{
		{"add", runFaultAdd}, {"list", runFaultList}, {"clear", runFaultClear},
	}, args, stdout, stderr)
}

func runFaultAdd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("fault add", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cf controlClientFlags
	cf.register(fs)
	var s rule.Spec
	var methods listFlag
	fs.StringVar(&s.Kind, "kind", "", "what the rule does: latency, error, throttle or drop (required)")
	fs.StringVar(&s.Path, "path", "", "path `prefix` the rule matches, such as /latest/meta-data/iam/ (default every path)")
	fs.StringVar(&s.Instance, "instance", "", "instance `ID` the rule matches (default every instance)")
	fs.Var(&methods, "method", "HTTP `method` the rule matches; repeat or separate with commas (default every method)")
	fs.StringVar(&s.Latency, "latency", "", "delay a latency rule adds, such as 2s")
	fs.IntVar(&s.Status, "status", 0, "status an error rule answers: 500 (default) or 503")
	fs.Int64Var(&s.Count, "count", 0, "apply to the next `N` matching requests only (default no limit)")
	fs.StringVar(&s.After, "after", "", "start the rule this `duration` from now")
	fs.StringVar(&s.For, "for", "", "end the rule this `duration` after it starts")
	fs.StringVar(&s.From, "from", "", "start the rule at this RFC 3339 `time`")
	fs.StringVar(&s.Until, "until", "", "end the rule at this RFC 3339 `time`")
	fs.StringVar(&s.ID, "id", "", "name the rule (default one the server picks, such as f1)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("fault add: unexpected argument %q", fs.Arg(0))
	}
	if s.Kind == "" {
		return errors.New("fault add: --kind is required (latency, error, throttle or drop)")
	}
	countGiven := false
	fs.Visit(func(f *flag.Flag) { countGiven = countGiven || f.Name == "count" })
	if countGiven && s.Count < 1 {
		return fmt.Errorf("fault add: --count %d: must be at least 1 (leave it out for no limit)", s.Count)
	}
	s.Methods = methods.values

	c, err := cf.client(ctx)
	if err != nil {
		return err
	}
	var e fault.Entry
	if err := c.Do(ctx, "POST", fault.Path, s, &e); err != nil {
		return fmt.Errorf("fault add: %w", controlError(err))
	}
	return printFaults(stdout, []fault.Entry{e})
}

func runFaultList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("fault list", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cf controlClientFlags
	cf.register(fs)
	asJSON := fs.Bool("json", false, "print the rules as JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("fault list: unexpected argument %q", fs.Arg(0))
	}
	c, err := cf.client(ctx)
	if err != nil {
		return err
	}
	var list struct {
		Faults []fault.Entry `json:"faults"`
	}
	if err := c.Do(ctx, "GET", fault.Path, nil, &list); err != nil {
		return fmt.Errorf("fault list: %w", controlError(err))
	}
	if *asJSON {
		return printJSON(stdout, list)
	}
	if len(list.Faults) == 0 {
		_, err := fmt.Fprintln(stdout, "no fault rules")
		return err
	}
	return printFaults(stdout, list.Faults)
}

func runFaultClear(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("fault clear", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cf controlClientFlags
	cf.register(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	path := fault.Path
	switch fs.NArg() {
	case 0:
	case 1:
		if fs.Arg(0) == "" {
			return errors.New("fault clear: empty rule id")
		}
		path += "/" + url.PathEscape(fs.Arg(0))
	default:
		return fmt.Errorf("fault clear: takes at most one rule id, got %q", fs.Args())
	}
	c, err := cf.client(ctx)
	if err != nil {
		return err
	}
	var out struct{ Removed int }
	if err := c.Do(ctx, "DELETE", path, nil, &out); err != nil {
		return fmt.Errorf("fault clear: %w", controlError(err))
	}
	_, err = fmt.Fprintf(stdout, "removed %d fault %s\n", out.Removed, faultPlural(out.Removed, "rule", "rules"))
	return err
}

// printFaults writes one row per rule.
func printFaults(w io.Writer, entries []fault.Entry) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tKIND\tINSTANCE\tPATH\tMETHODS\tEFFECT\tLEFT\tHITS\tWINDOW")
	for _, e := range entries {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\n", e.ID, e.Kind, e.Instance, e.Path,
			faultOrDash(strings.Join(e.Methods, ",")), faultEffect(e), faultLeft(e), e.Hits, faultWindow(e))
	}
	return tw.Flush()
}

func faultEffect(e fault.Entry) string {
	switch rule.Kind(e.Kind) {
	case rule.Latency:
		return "+" + e.Latency
	case rule.Error:
		return strconv.Itoa(e.Status)
	case rule.Throttle:
		return "429"
	}
	return "no answer"
}

func faultLeft(e fault.Entry) string {
	if e.Remaining == nil {
		return "-"
	}
	return strconv.FormatInt(*e.Remaining, 10)
}

func faultWindow(e fault.Entry) string {
	from, until := faultTime(e.From), faultTime(e.Until)
	switch {
	case from != "" && until != "":
		return from + " to " + until
	case from != "":
		return "from " + from
	case until != "":
		return "until " + until
	}
	return "-"
}

// faultTime shortens an RFC 3339 time to whole seconds for the table.
func faultTime(s string) string {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return s
	}
	return t.UTC().Format(time.RFC3339)
}

func faultOrDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func faultPlural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

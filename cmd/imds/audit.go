package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/imds-dev/imds/audit"
)

// runAudit implements "imds audit": it fetches the IMDSv1 usage report from
// a running imds's control listener, signed with the control credentials,
// and prints it as a table or, with --json, as the server sent it.
func runAudit(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("audit", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cf controlClientFlags
	cf.register(fs)
	asJSON := fs.Bool("json", false, "print the report as JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}

	c, err := cf.client(ctx)
	if err != nil {
		return err
	}
	var rep audit.Report
	if err := c.Do(ctx, "GET", "/imds/audit", nil, &rep); err != nil {
		return fmt.Errorf("fetch audit: %w", err)
	}
	if *asJSON {
		return printJSON(stdout, rep)
	}
	return printAudit(stdout, rep)
}

// auditTopPaths and auditCommandWidth keep table rows readable; --json has
// everything.
const (
	auditTopPaths     = 3
	auditCommandWidth = 60
)

// printAudit writes one row per instance and one more per further caller.
func printAudit(w io.Writer, rep audit.Report) error {
	if len(rep.Instances) == 0 {
		_, err := fmt.Fprintln(w, "no IMDSv1 requests recorded")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "INSTANCE\tV1 SERVED\tV1 REFUSED\tFIRST SEEN\tLAST SEEN\tTOP PATHS\tPID\tCOMMAND")
	for _, in := range rep.Instances {
		callers := callerCells(in)
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%s\t%s\t%s\n", in.InstanceID, in.Served, in.Refused,
			tableTime(in.FirstSeen), tableTime(in.LastSeen), topPaths(in), callers[0])
		for _, c := range callers[1:] {
			fmt.Fprintf(tw, "\t\t\t\t\t\t%s\n", c)
		}
	}
	if lk := rep.Lookups; !lk.Supported {
		fmt.Fprintln(tw, "\nprocess lookup is not supported on the server's system")
	} else if lk.Limited > 0 || lk.LastError != "" {
		fmt.Fprintf(tw, "\nprocess lookups: %d rate limited, %d failed (last: %s)\n", lk.Limited, lk.Failed, lk.LastError)
	}
	return tw.Flush()
}

// callerCells returns the "PID\tCOMMAND" cells of an instance's callers,
// at least one.
func callerCells(in audit.InstanceUsage) []string {
	var cells []string
	for _, c := range in.Callers {
		cells = append(cells, strconv.Itoa(c.PID)+"\t"+auditCut(c.Command, auditCommandWidth))
	}
	if in.OtherCallers > 0 {
		cells = append(cells, "-\t"+fmt.Sprintf("(%d requests from other processes)", in.OtherCallers))
	}
	if in.Unattributed > 0 {
		cells = append(cells, "?\t"+fmt.Sprintf("(%d local requests not attributed)", in.Unattributed))
	}
	if len(cells) == 0 {
		cells = append(cells, "-\t-")
	}
	return cells
}

func topPaths(in audit.InstanceUsage) string {
	var parts []string
	for i, p := range in.Paths {
		if i == auditTopPaths {
			break
		}
		parts = append(parts, fmt.Sprintf("%s (%d)", p.Path, p.Requests))
	}
	if rest := len(in.Paths) - len(parts); rest > 0 {
		parts = append(parts, fmt.Sprintf("+%d more", rest))
	}
	if in.OtherPaths > 0 {
		parts = append(parts, fmt.Sprintf("+%d requests elsewhere", in.OtherPaths))
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, ", ")
}

func auditCut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-3] + "..."
}

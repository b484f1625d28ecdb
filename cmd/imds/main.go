// Command imds is an EC2 instance metadata service: `imds serve` answers
// instances the way 169.254.169.254 does on EC2, on loopback by default.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := Run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "imds:", err)
		os.Exit(1)
	}
}

const usage = `imds is an EC2 instance metadata service.

Usage:
  imds serve [flags]    serve instance metadata (default 127.0.0.1:1338)
  imds verify [flags]   verify the signed identity document of a running imds
  imds audit [flags]    show who still calls IMDSv1, per instance and process
  imds fault ...        inject latency, errors, throttling or dropped connections
  imds event ...        schedule, list or cancel Spot, rebalance, maintenance and Auto Scaling events
  imds version          print the version

Run "imds COMMAND -h" for a command's flags.
`

// Run runs the command named by args[0]. It is main without the process:
// tests call it directly.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("no command given")
	}
	switch args[0] {
	case "serve":
		return runServe(ctx, args[1:], stdout, stderr)
	case "verify":
		return runVerify(ctx, args[1:], stdout, stderr)
	case "audit":
		return runAudit(ctx, args[1:], stdout, stderr)
	case "fault":
		return runFault(ctx, args[1:], stdout, stderr)
	case "event":
		return runEvent(ctx, args[1:], stdout, stderr)
	case "version", "-version", "--version":
		fmt.Fprintln(stdout, "imds", version)
		return nil
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", args[0])
}

package control

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// Ensure TerminateInstances answers as EC2 does, keeps the instance as
// terminated, hands it to the data plane before answering, and frees its
// address for a later launch.
func TestServer_TerminateInstances(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	launch := launchOne()
	launch.PrivateIpAddress = aws.String("10.1.2.3")
	run, err := h.client.RunInstances(ctx, launch)
	if err != nil {
		t.Fatalf("RunInstances: %v", err)
	}
	id := aws.ToString(run.Instances[0].InstanceId)

	out, err := h.client.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{id}})
	if err != nil {
		t.Fatalf("TerminateInstances: %v", err)
	}
	if len(out.TerminatingInstances) != 1 {
		t.Fatalf("TerminatingInstances = %+v", out.TerminatingInstances)
	}
	c := out.TerminatingInstances[0]
	if aws.ToString(c.InstanceId) != id || c.CurrentState.Name != types.InstanceStateNameShuttingDown || aws.ToInt32(c.CurrentState.Code) != 32 ||
		c.PreviousState.Name != types.InstanceStateNameRunning || aws.ToInt32(c.PreviousState.Code) != 16 {
		t.Errorf("state change = %s %+v → %+v, want running 16 → shutting-down 32", aws.ToString(c.InstanceId), *c.PreviousState, *c.CurrentState)
	}
	if applied := h.lastApplied(); applied == nil || applied.ID != id || applied.State != "terminated" {
		t.Fatalf("applied before the answer = %+v, want %s terminated", applied, id)
	}

	desc, err := h.client.DescribeInstances(ctx, &ec2.DescribeInstancesInput{
		Filters: []types.Filter{{Name: aws.String("instance-state-name"), Values: []string{"terminated"}}},
	})
	if err != nil {
		t.Fatalf("DescribeInstances: %v", err)
	}
	if n := countInstances(desc.Reservations); n != 1 {
		t.Fatalf("instance-state-name=terminated matched %d instances, want 1", n)
	}
	if d := desc.Reservations[0].Instances[0]; aws.ToString(d.InstanceId) != id || aws.ToInt32(d.State.Code) != 48 {
		t.Errorf("described %s in state %d, want %s in 48", aws.ToString(d.InstanceId), aws.ToInt32(d.State.Code), id)
	}

	again, err := h.client.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{id}})
	if err != nil {
		t.Fatalf("TerminateInstances again: %v", err)
	}
	if c := again.TerminatingInstances[0]; c.PreviousState.Name != types.InstanceStateNameTerminated || c.CurrentState.Name != types.InstanceStateNameTerminated {
		t.Errorf("terminating again: %s → %s, want terminated → terminated", c.PreviousState.Name, c.CurrentState.Name)
	}

	if _, err := h.client.RunInstances(ctx, launch); err != nil {
		t.Errorf("launch at a terminated instance's address: %v", err)
	}
	_, err = h.client.ModifyInstanceMetadataOptions(ctx, &ec2.ModifyInstanceMetadataOptionsInput{InstanceId: aws.String(id), HttpTokens: "required"})
	if got := apiCode(t, err); got != "IncorrectInstanceState" {
		t.Errorf("modify a terminated instance: code %q, want IncorrectInstanceState", got)
	}
}

// Ensure refused terminations carry EC2's codes and terminate nothing,
// not even the instances that exist.
func TestServer_TerminateInstancesRefused(t *testing.T) {
	tests := []struct {
		name string
		ids  []string
		dry  bool
		code string
	}{
		{"unknown", []string{"i-0000000000000000f"}, false, "InvalidInstanceID.NotFound"},
		{"one of two unknown", []string{testID, "i-0000000000000000f"}, false, "InvalidInstanceID.NotFound"},
		{"malformed", []string{"i-xyz"}, false, "InvalidInstanceID.Malformed"},
		{"dry run", []string{testID}, true, "DryRunOperation"},
		{"dry run unknown", []string{"i-0000000000000000f"}, true, "InvalidInstanceID.NotFound"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			_, err := h.client.TerminateInstances(context.Background(), &ec2.TerminateInstancesInput{InstanceIds: tt.ids, DryRun: aws.Bool(tt.dry)})
			if got := apiCode(t, err); got != tt.code {
				t.Fatalf("code = %q (%v), want %q", got, err, tt.code)
			}
			if h.lastApplied() != nil || h.instance(testID).State != "running" {
				t.Errorf("a refused call terminated an instance")
			}
		})
	}
	h := newHarness(t)
	if status, code := h.send(rawCall{body: "Action=TerminateInstances&Version=2016-11-15"}); status != 400 || code != "MissingParameter" {
		t.Errorf("no InstanceId: %d %s, want 400 MissingParameter", status, code)
	}
}

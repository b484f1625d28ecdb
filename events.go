package imds

import "time"

// Events are the notices EC2 posts to an instance. Every notice carries the
// moment it becomes visible, so that a notice scheduled for later (say, a Spot
// interruption two minutes after start) appears on its own at that moment.
type Events struct {
	Spot        *SpotNotice        `json:"spot,omitempty"`
	Rebalance   *RebalanceNotice   `json:"rebalance,omitempty"`
	Maintenance []MaintenanceEvent `json:"maintenance,omitempty"`
	// AutoScaling is the target lifecycle state, empty when the instance is
	// not in an Auto Scaling group.
	AutoScaling *AutoScalingState `json:"autoScaling,omitempty"`
}

// Spot interruption actions.
const (
	SpotTerminate = "terminate"
	SpotStop      = "stop"
	SpotHibernate = "hibernate"
)

// SpotNotice is a Spot interruption: visible from NoticeTime, acting at
// ActionTime (two minutes later on EC2).
type SpotNotice struct {
	Action     string    `json:"action"`
	NoticeTime time.Time `json:"noticeTime"`
	ActionTime time.Time `json:"actionTime"`
}

// RebalanceNotice is a rebalance recommendation, visible from NoticeTime.
type RebalanceNotice struct {
	NoticeTime time.Time `json:"noticeTime"`
}

// Maintenance event states.
const (
	EventActive    = "active"
	EventCompleted = "completed"
	EventCanceled  = "canceled"
)

// MaintenanceEvent is a scheduled event. Active events are listed under
// events/maintenance/scheduled, completed and canceled ones under history.
// The event is visible from PostedAt (zero means always).
type MaintenanceEvent struct {
	ID                string    `json:"id"`   // instance-event-0123456789abcdef0
	Code              string    `json:"code"` // system-reboot, instance-stop, ...
	Description       string    `json:"description"`
	State             string    `json:"state"`
	NotBefore         time.Time `json:"notBefore"`
	NotAfter          time.Time `json:"notAfter"`
	NotBeforeDeadline time.Time `json:"notBeforeDeadline,omitempty"`
	PostedAt          time.Time `json:"postedAt,omitempty"`
}

// AutoScalingState is an Auto Scaling target lifecycle state, visible from
// Since.
type AutoScalingState struct {
	State string    `json:"state"` // InService, Terminated, Warmed:Stopped, ...
	Since time.Time `json:"since,omitempty"`
}

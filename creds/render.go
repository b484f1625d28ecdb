package creds

import (
	"time"

	"github.com/imds-dev/imds/internal/ec2json"
)

// TimeLayout is how IMDS writes timestamps in credential documents. botocore
// parses Expiration with exactly this layout.
const TimeLayout = "2006-01-02T15:04:05Z"

// Render returns the body of iam/security-credentials/ROLE, with the members
// in the order EC2 sends them.
func (c Credentials) Render() []byte {
	return ec2json.Object([]ec2json.Member{
		{Key: "Code", Value: "Success"},
		{Key: "LastUpdated", Value: c.LastUpdated.UTC().Format(TimeLayout)},
		{Key: "Type", Value: "AWS-HMAC"},
		{Key: "AccessKeyId", Value: c.AccessKeyID},
		{Key: "SecretAccessKey", Value: c.SecretAccessKey},
		{Key: "Token", Value: c.Token},
		{Key: "Expiration", Value: c.Expiration.UTC().Format(TimeLayout)},
	}, "")
}

// RenderInfo returns the body of iam/info.
func RenderInfo(lastUpdated time.Time, profileARN, profileID string) []byte {
	return ec2json.Object([]ec2json.Member{
		{Key: "Code", Value: "Success"},
		{Key: "LastUpdated", Value: lastUpdated.UTC().Format(TimeLayout)},
		{Key: "InstanceProfileArn", Value: profileARN},
		{Key: "InstanceProfileId", Value: profileID},
	}, "")
}

// RenderIdentityInfo returns the body of identity-credentials/ec2/info.
func RenderIdentityInfo(lastUpdated time.Time, accountID string) []byte {
	return ec2json.Object([]ec2json.Member{
		{Key: "Code", Value: "Success"},
		{Key: "LastUpdated", Value: lastUpdated.UTC().Format(TimeLayout)},
		{Key: "AccountId", Value: accountID},
	}, "")
}

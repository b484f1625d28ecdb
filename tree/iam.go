package tree

import (
	"github.com/imds-dev/imds"
	"github.com/imds-dev/imds/creds"
)

// buildIAM renders iam/ (only with an instance profile) and
// identity-credentials/ec2/ (always). Role credentials come in two sets:
// requests without a token get the IMDSv1 set, requests with one the IMDSv2
// set, as ec2:RoleDelivery tells them apart on EC2.
func buildIAM(b *builder, in *imds.Instance, opt Options, v *validity) {
	g := opt.Creds
	if g == nil {
		return
	}
	v.changesAt(g.Schedule().NextRotation(v.now))

	id := g.Identity(in.ID, v.now)
	b.text("meta-data/identity-credentials/ec2/info",
		string(creds.RenderIdentityInfo(id.LastUpdated, in.AccountID)))
	b.text("meta-data/identity-credentials/ec2/security-credentials/ec2-instance", string(id.Render()))

	if in.IAM == nil || in.IAM.RoleName == "" {
		return
	}
	v1 := g.For(in, creds.DeliveryV1, v.now)
	v2 := g.For(in, creds.DeliveryV2, v.now)
	role := in.IAM.RoleName

	b.text("meta-data/iam/info", string(creds.RenderInfo(v1.LastUpdated, in.IAM.ProfileARN, in.IAM.ProfileID)))
	roleNode := &Node{ContentType: TextPlain, Body: v1.Render()}
	if !in.Options.TokensRequired() {
		roleNode.BodyV2 = v2.Render()
	} else {
		// With tokens required only IMDSv2 credentials exist.
		roleNode.Body = v2.Render()
	}
	b.add("meta-data/iam/security-credentials/"+role, roleNode)
	// The role listing is the bare name: botocore uses the body verbatim in
	// the next URL.
	b.listing("meta-data/iam/security-credentials", []string{role})

	if opt.ExtendedCredentials {
		ext := &Node{ContentType: TextPlain, Body: roleNode.Body, BodyV2: roleNode.BodyV2}
		b.add("meta-data/iam/security-credentials-extended/"+role, ext)
		b.listing("meta-data/iam/security-credentials-extended", []string{role})
	}
}

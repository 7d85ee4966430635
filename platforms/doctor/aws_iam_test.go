package doctor

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
)

// iamStandIn speaks STS GetCallerIdentity and IAM GetRole and
// SimulatePrincipalPolicy in their documented awsquery wire format (POST
// form, XML reply; https://docs.aws.amazon.com/IAM/latest/APIReference/API_SimulatePrincipalPolicy.html):
// the simulation answers "allowed" for the actions in allowed and
// "implicitDeny" otherwise, or AccessDenied (HTTP 403) when the caller may
// not simulate.
func iamStandIn(t *testing.T, callerARN string, allowed map[string]bool, mayRun bool) (*httptest.Server, *[]url.Values) {
	var sims []url.Values
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		q, _ := url.ParseQuery(string(body))
		w.Header().Set("Content-Type", "text/xml")
		switch q.Get("Action") {
		case "GetCallerIdentity":
			fmt.Fprintf(w, `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult><Arn>%s</Arn><UserId>AIDAEXAMPLE</UserId><Account>123456789012</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>r1</RequestId></ResponseMetadata></GetCallerIdentityResponse>`, callerARN)
		case "GetRole":
			if strings.HasPrefix(q.Get("RoleName"), "AWSReservedSSO_") {
				// An IAM Identity Center user whose permission set does not
				// allow iam:GetRole.
				w.WriteHeader(http.StatusForbidden)
				fmt.Fprint(w, `<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>not authorized to perform: iam:GetRole</Message></Error><RequestId>r5</RequestId></ErrorResponse>`)
				return
			}
			fmt.Fprintf(w, `<GetRoleResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><GetRoleResult><Role><Path>/team/</Path><RoleName>%s</RoleName><RoleId>AROAEXAMPLE</RoleId><Arn>arn:aws:iam::123456789012:role/team/%s</Arn><CreateDate>2026-01-01T00:00:00Z</CreateDate></Role></GetRoleResult><ResponseMetadata><RequestId>r2</RequestId></ResponseMetadata></GetRoleResponse>`, q.Get("RoleName"), q.Get("RoleName"))
		case "SimulatePrincipalPolicy":
			if q.Get("Version") != "2010-05-08" {
				t.Errorf("version %q", q.Get("Version"))
			}
			sims = append(sims, q)
			if src := q.Get("PolicySourceArn"); strings.Contains(src, ":role/AWSReservedSSO_") {
				// The role exists only with its path
				// (/aws-reserved/sso.amazonaws.com/...).
				w.WriteHeader(http.StatusNotFound)
				fmt.Fprintf(w, `<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Sender</Type><Code>NoSuchEntity</Code><Message>The role with name %s cannot be found.</Message></Error><RequestId>r6</RequestId></ErrorResponse>`, src)
				return
			}
			if !mayRun {
				w.WriteHeader(http.StatusForbidden)
				fmt.Fprint(w, `<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>not authorized to perform: iam:SimulatePrincipalPolicy</Message></Error><RequestId>r3</RequestId></ErrorResponse>`)
				return
			}
			var b strings.Builder
			for i := 1; q.Get(fmt.Sprintf("ActionNames.member.%d", i)) != ""; i++ {
				a := q.Get(fmt.Sprintf("ActionNames.member.%d", i))
				d := "implicitDeny"
				if allowed[a] {
					d = "allowed"
				}
				res := q.Get("ResourceArns.member.1")
				if res == "" {
					res = "*"
				}
				fmt.Fprintf(&b, `<member><EvalActionName>%s</EvalActionName><EvalResourceName>%s</EvalResourceName><EvalDecision>%s</EvalDecision><MatchedStatements/><MissingContextValues/></member>`, a, res, d)
			}
			fmt.Fprintf(w, `<SimulatePrincipalPolicyResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><SimulatePrincipalPolicyResult><IsTruncated>false</IsTruncated><EvaluationResults>%s</EvaluationResults></SimulatePrincipalPolicyResult><ResponseMetadata><RequestId>r4</RequestId></ResponseMetadata></SimulatePrincipalPolicyResponse>`, b.String())
		default:
			t.Errorf("unexpected request %q", body)
			w.WriteHeader(http.StatusBadRequest)
		}
	}))
	t.Cleanup(srv.Close)
	return srv, &sims
}

func allActions(stack bool) map[string]bool {
	m := map[string]bool{}
	for _, p := range AWSPermissions {
		if stack || !p.Stack {
			for _, a := range p.Actions {
				m[a] = true
			}
		}
	}
	return m
}

func TestAWSPermissionsCheck(t *testing.T) {
	missingPass := allActions(true)
	delete(missingPass, "iam:PassRole")
	tests := []struct {
		name    string
		caller  string
		allowed map[string]bool
		mayRun  bool
		managed bool
		wantOK  bool
		want    string
	}{
		{"all granted", "arn:aws:iam::123456789012:user/bench", allActions(true), true, true, true, "arn:aws:iam::123456789012:user/bench allows the stack's"},
		{"PassRole missing", "arn:aws:iam::123456789012:user/bench", missingPass, true, true, false, "iam:PassRole on arn:aws:iam::123456789012:role/fb-adhoc-dev-role (implicitDeny)"},
		{"existing deployment needs no stack permissions", "arn:aws:iam::123456789012:user/bench", allActions(false), true, false, true, "account-wide"},
		{"assumed role simulated as its IAM role, with its path", "arn:aws:sts::123456789012:assumed-role/Deployer/session-1", allActions(true), true, true, true, "arn:aws:iam::123456789012:role/team/Deployer allows"},
		{"may not simulate", "arn:aws:iam::123456789012:user/bench", nil, false, true, true, "not checked: arn:aws:iam::123456789012:user/bench may not call iam:SimulatePrincipalPolicy"},
		{"SSO role without iam:GetRole: path unknown, not checked", "arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_Admin_0123abcd/alice", allActions(true), true, true, true,
			"not checked: the path of role arn:aws:iam::123456789012:role/AWSReservedSSO_Admin_0123abcd is unknown without iam:GetRole"},
		{"root cannot be simulated", "arn:aws:iam::123456789012:root", nil, true, true, true, "not checked: the root user"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, sims := iamStandIn(t, tt.caller, tt.allowed, tt.mayRun)
			r := run1(t, AWSPermissionsCheck(awsEnv(t, srv, "AKIDDOCTOR", 0), "eu-west-1", tt.managed, nil))
			if r.OK != tt.wantOK || !strings.Contains(r.Detail, tt.want) {
				t.Fatalf("result %+v, want ok=%v with %q", r, tt.wantOK, tt.want)
			}
			for _, q := range *sims {
				if q.Get("PolicySourceArn") == "" {
					t.Errorf("simulation without a principal: %v", q)
				}
				if strings.Contains(q.Encode(), "iam%3APassRole") && q.Get("ContextEntries.member.1.ContextKeyName") != "iam:PassedToService" {
					t.Errorf("PassRole simulated without iam:PassedToService: %v", q)
				}
			}
		})
	}
}

// TestAWSPermissionsDocumented: docs/infrastructure.md lists every action
// the check simulates.
func TestAWSPermissionsDocumented(t *testing.T) {
	doc, err := os.ReadFile("../../docs/infrastructure.md")
	if err != nil {
		t.Fatal(err)
	}
	sec := regexp.MustCompile(`(?s)### Permissions of the deploying identity\n(.*?)\n##`).FindSubmatch(doc)
	if sec == nil {
		t.Fatal(`docs/infrastructure.md has no "### Permissions of the deploying identity" section`)
	}
	for _, p := range AWSPermissions {
		for _, a := range p.Actions {
			if !strings.Contains(string(sec[1]), "`"+a+"`") {
				t.Errorf("the permissions section does not list %s", a)
			}
		}
	}
}

package daemon

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/golang-jwt/jwt/v5"
)

// Perm is an API permission level. Each level includes the ones below it,
// as in Lotus: read < write < sign < admin.
type Perm int

// Permission levels.
const (
	PermRead  Perm = iota + 1 // look at state and content
	PermWrite                 // store pre-signed objects, pin
	PermSign                  // make the node sign with the operator key
	PermAdmin                 // tokens, gc, configuration
)

var permNames = map[Perm]string{PermRead: "read", PermWrite: "write", PermSign: "sign", PermAdmin: "admin"}

func (p Perm) String() string {
	if s, ok := permNames[p]; ok {
		return s
	}
	return fmt.Sprintf("perm(%d)", int(p))
}

// ParsePerm parses read, write, sign or admin.
func ParsePerm(s string) (Perm, error) {
	for p, n := range permNames {
		if n == s {
			return p, nil
		}
	}
	return 0, fmt.Errorf("unknown permission %q (want read, write, sign or admin)", s)
}

// ErrPermission is returned by API methods the caller's token does not allow.
var ErrPermission = errors.New("daemon: permission denied")

type permKey struct{}

// withPerm records the caller's permission in a request context.
func withPerm(ctx context.Context, p Perm) context.Context {
	return context.WithValue(ctx, permKey{}, p)
}

// permFrom returns the permission recorded by the HTTP middleware. Absence
// means no middleware ran, which is never the case for network requests:
// those always pass through it, so absence is treated as no permission.
func permFrom(ctx context.Context) Perm {
	p, _ := ctx.Value(permKey{}).(Perm)
	return p
}

// tokenClaims are the claims of an API token (a JWT signed with HS256 by the
// repo's api.secret, like Lotus's tokens).
type tokenClaims struct {
	Perm string `json:"perm"`
	jwt.RegisteredClaims
}

// Authority issues and checks API tokens.
type Authority struct {
	secret []byte
}

// LoadAuthority reads the repo's token secret.
func (r *Repo) LoadAuthority() (*Authority, error) {
	secret, err := os.ReadFile(r.Path(KeystoreDir, APISecret))
	if err != nil {
		return nil, fmt.Errorf("read api secret: %w", err)
	}
	if len(secret) < 32 {
		return nil, errors.New("api secret is shorter than 32 bytes")
	}
	return &Authority{secret: secret}, nil
}

// CreateToken returns a bearer token granting p.
func (a *Authority) CreateToken(p Perm) (string, error) {
	if _, ok := permNames[p]; !ok {
		return "", fmt.Errorf("unknown permission %d", int(p))
	}
	t := jwt.NewWithClaims(jwt.SigningMethodHS256, tokenClaims{Perm: p.String()})
	return t.SignedString(a.secret)
}

// Check returns the permission a bearer token grants.
func (a *Authority) Check(token string) (Perm, error) {
	var claims tokenClaims
	_, err := jwt.ParseWithClaims(strings.TrimSpace(token), &claims, func(*jwt.Token) (any, error) {
		return a.secret, nil
	}, jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}))
	if err != nil {
		return 0, fmt.Errorf("%w: invalid token: %w", ErrPermission, err)
	}
	p, err := ParsePerm(claims.Perm)
	if err != nil {
		return 0, fmt.Errorf("%w: %w", ErrPermission, err)
	}
	return p, nil
}

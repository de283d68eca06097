package daemon

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"

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

// Authority issues and checks API tokens. It reads keystore/api.secret
// again whenever the file changes, so a rotation (Rotate, `openledger auth
// rotate`, or a new file put there by hand) revokes every token at once,
// without a restart.
type Authority struct {
	path string // of api.secret; "" for a fixed secret (tests)

	mu     sync.Mutex
	secret []byte      // guarded by mu
	read   os.FileInfo // guarded by mu; the file secret was read from
}

// LoadAuthority reads the repo's token secret.
func (r *Repo) LoadAuthority() (*Authority, error) {
	a := &Authority{path: r.Path(KeystoreDir, APISecret)}
	if _, err := a.current(); err != nil {
		return nil, err
	}
	return a, nil
}

// current returns the secret, read again if the file is not the one read
// last (another inode, size or modification time). A missing or short
// file is an error: no token is valid then.
func (a *Authority) current() ([]byte, error) {
	if a.path == "" {
		return a.secret, nil
	}
	st, err := os.Stat(a.path)
	if err != nil {
		return nil, fmt.Errorf("read api secret: %w", err)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.read != nil && os.SameFile(st, a.read) && st.Size() == a.read.Size() && st.ModTime().Equal(a.read.ModTime()) {
		return a.secret, nil
	}
	secret, err := os.ReadFile(a.path)
	if err != nil {
		return nil, fmt.Errorf("read api secret: %w", err)
	}
	if len(secret) < 32 {
		return nil, errors.New("api secret is shorter than 32 bytes")
	}
	a.secret, a.read = secret, st
	return secret, nil
}

// Rotate replaces api.secret with a new random one: every token issued
// before is refused from now on.
func (a *Authority) Rotate() error {
	if a.path == "" {
		return errors.New("api secret: no file to rotate")
	}
	if err := newAPISecret(a.path); err != nil {
		return err
	}
	_, err := a.current()
	return err
}

// CreateToken returns a bearer token granting p.
func (a *Authority) CreateToken(p Perm) (string, error) {
	if _, ok := permNames[p]; !ok {
		return "", fmt.Errorf("unknown permission %d", int(p))
	}
	secret, err := a.current()
	if err != nil {
		return "", err
	}
	t := jwt.NewWithClaims(jwt.SigningMethodHS256, tokenClaims{Perm: p.String()})
	return t.SignedString(secret)
}

// Check returns the permission a bearer token grants.
func (a *Authority) Check(token string) (Perm, error) {
	secret, err := a.current()
	if err != nil {
		return 0, fmt.Errorf("%w: %w", ErrPermission, err)
	}
	var claims tokenClaims
	_, err = jwt.ParseWithClaims(strings.TrimSpace(token), &claims, func(*jwt.Token) (any, error) {
		return secret, nil
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

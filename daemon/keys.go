package daemon

import (
	"crypto/ecdsa"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/ethereum/go-ethereum/accounts"
	"github.com/ethereum/go-ethereum/accounts/keystore"
	"github.com/ethereum/go-ethereum/common"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/openledger/openledger/internal/atomicfile"
)

// ErrBadPassword is returned when the keystore passphrase does not decrypt the operator key.
var ErrBadPassword = errors.New("daemon: wrong keystore password")

func newIdentity(path string) (peer.ID, error) {
	sk, _, err := crypto.GenerateEd25519Key(rand.Reader)
	if err != nil {
		return "", fmt.Errorf("generate identity key: %w", err)
	}
	data, err := crypto.MarshalPrivateKey(sk)
	if err != nil {
		return "", fmt.Errorf("encode identity key: %w", err)
	}
	if err := atomicfile.WriteFile(path, data, 0o600); err != nil {
		return "", fmt.Errorf("write identity key: %w", err)
	}
	return peer.IDFromPrivateKey(sk)
}

// LoadIdentity reads the node's libp2p private key.
func (r *Repo) LoadIdentity() (crypto.PrivKey, error) {
	data, err := os.ReadFile(r.Path(KeystoreDir, IdentityFile))
	if err != nil {
		return nil, fmt.Errorf("read identity key: %w", err)
	}
	sk, err := crypto.UnmarshalPrivateKey(data)
	if err != nil {
		return nil, fmt.Errorf("decode identity key: %w", err)
	}
	return sk, nil
}

// newAccount creates the operator's key as a keystore v3 file. An empty
// password gets light scrypt parameters: the key is then protected only by
// file permissions, so spending 256 MB and a second per unlock buys nothing.
func newAccount(dir, password string) (accounts.Account, error) {
	n, p := keystore.StandardScryptN, keystore.StandardScryptP
	if password == "" {
		n, p = keystore.LightScryptN, keystore.LightScryptP
	}
	acct, err := keystore.StoreKey(dir, password, n, p)
	if err != nil {
		return accounts.Account{}, fmt.Errorf("create operator account: %w", err)
	}
	return acct, nil
}

// LoadAccountKey decrypts the operator's key from the keystore.
func (r *Repo) LoadAccountKey(password string) (*ecdsa.PrivateKey, error) {
	want := common.HexToAddress(r.Config.Identity.Account)
	path, err := findKeyFile(r.Path(KeystoreDir), want)
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read keystore file: %w", err)
	}
	key, err := keystore.DecryptKey(data, password)
	if err != nil {
		if errors.Is(err, keystore.ErrDecrypt) {
			return nil, fmt.Errorf("%w for %s (set OPENLEDGER_PASSWORD or --password-file)", ErrBadPassword, want.Hex())
		}
		return nil, fmt.Errorf("decrypt keystore file %s: %w", path, err)
	}
	if key.Address != want {
		return nil, fmt.Errorf("keystore file %s holds %s, config names %s", path, key.Address.Hex(), want.Hex())
	}
	return key.PrivateKey, nil
}

// findKeyFile finds the keystore v3 file of addr by go-ethereum's file name
// convention (UTC--<time>--<hex address>).
func findKeyFile(dir string, addr common.Address) (string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return "", fmt.Errorf("read keystore: %w", err)
	}
	suffix := "--" + strings.ToLower(strings.TrimPrefix(addr.Hex(), "0x"))
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "UTC--") && strings.HasSuffix(strings.ToLower(e.Name()), suffix) {
			return filepath.Join(dir, e.Name()), nil
		}
	}
	return "", fmt.Errorf("no keystore file for account %s in %s", addr.Hex(), dir)
}

func newAPISecret(path string) error {
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return fmt.Errorf("generate api secret: %w", err)
	}
	if err := atomicfile.WriteFile(path, secret, 0o600); err != nil {
		return fmt.Errorf("write api secret: %w", err)
	}
	return nil
}

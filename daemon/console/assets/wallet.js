// The curator's own browser wallet, through EIP-1193 (window.ethereum, as
// MetaMask and others inject it). The wallet signs the EIP-712 document
// the node returns for a vote, exactly as returned; the node only checks
// the signature.

let account = '';

export function available() {
  return typeof window.ethereum?.request === 'function';
}

export function connected() { return account; }

function changed() {
  document.dispatchEvent(new CustomEvent('wallet', {detail: account}));
}

export async function connect() {
  const accounts = await window.ethereum.request({method: 'eth_requestAccounts'});
  account = (accounts && accounts[0]) || '';
  changed();
  return account;
}

export function disconnect() {
  account = '';
  changed();
}

// ensureChain asks the wallet to switch to chainId (a number) when its
// active chain is another: wallets refuse to sign typed data whose domain
// names a chain other than the active one.
export async function ensureChain(chainId) {
  const want = '0x' + Number(chainId).toString(16);
  const have = await window.ethereum.request({method: 'eth_chainId'});
  if (String(have).toLowerCase() === want) return;
  try {
    await window.ethereum.request({method: 'wallet_switchEthereumChain', params: [{chainId: want}]});
  } catch (err) {
    throw new Error(`switch your wallet to chain ${chainId}, the Datanet's: ${err.message}`);
  }
}

// signTypedData asks the wallet to sign the EIP-712 document docJSON (a
// JSON text) with eth_signTypedData_v4; it returns the 65-byte signature
// as 0x-hex.
export async function signTypedData(docJSON) {
  if (!account) throw new Error('connect a wallet first');
  return window.ethereum.request({method: 'eth_signTypedData_v4', params: [account, docJSON]});
}

if (available() && typeof window.ethereum.on === 'function') {
  window.ethereum.on('accountsChanged', (accounts) => {
    account = (accounts && accounts[0]) || '';
    changed();
  });
}

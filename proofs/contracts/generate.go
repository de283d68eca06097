package contracts

// go generate ./proofs/contracts compiles the Solidity sources of contracts/
// into the .abi and .bin files of this directory and binds them with the
// abigen of the go-ethereum version in go.mod (a tool of the module). It
// needs the npm packages of contracts/ installed first (cd contracts && npm
// ci); go generate does not install them, so it never reaches the network.

//go:generate node ../../contracts/build.mjs
//go:generate go tool abigen --abi AnchorRegistry.abi --bin AnchorRegistry.bin --pkg contracts --type AnchorRegistry --out anchor_registry.go
//go:generate go tool abigen --abi RewardsDistributor.abi --bin RewardsDistributor.bin --pkg contracts --type RewardsDistributor --out rewards_distributor.go
//go:generate go tool abigen --abi OpenToken.abi --bin OpenToken.bin --pkg contracts --type OpenToken --out open_token.go

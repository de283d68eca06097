// Code generated - DO NOT EDIT.
// This file is a generated binding and any manual changes will be lost.

package contracts

import (
	"context"
	"errors"
	"math/big"
	"strings"
	"time"

	ethereum "github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/accounts/abi/bind"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/event"
)

// Reference imports to suppress errors if they are not otherwise used.
var (
	_ = errors.New
	_ = big.NewInt
	_ = strings.NewReader
	_ = ethereum.NotFound
	_ = bind.Bind
	_ = common.Big1
	_ = types.BloomLookup
	_ = event.NewSubscription
	_ = abi.ConvertType
	_ = time.Tick
	_ = context.Background
)

// RewardsDistributorMetaData contains all meta data concerning the RewardsDistributor contract.
var RewardsDistributorMetaData = &bind.MetaData{
	ABI: "[{\"inputs\":[{\"internalType\":\"contractIERC20\",\"name\":\"token_\",\"type\":\"address\"},{\"internalType\":\"address\",\"name\":\"initialOwner\",\"type\":\"address\"}],\"stateMutability\":\"nonpayable\",\"type\":\"constructor\"},{\"inputs\":[{\"internalType\":\"uint64\",\"name\":\"epoch\",\"type\":\"uint64\"},{\"internalType\":\"uint64\",\"name\":\"current\",\"type\":\"uint64\"}],\"name\":\"EpochNotIncreasing\",\"type\":\"error\"},{\"inputs\":[],\"name\":\"InvalidProof\",\"type\":\"error\"},{\"inputs\":[{\"internalType\":\"address\",\"name\":\"caller\",\"type\":\"address\"}],\"name\":\"NotPoster\",\"type\":\"error\"},{\"inputs\":[{\"internalType\":\"address\",\"name\":\"account\",\"type\":\"address\"},{\"internalType\":\"uint256\",\"name\":\"cumulative\",\"type\":\"uint256\"},{\"internalType\":\"uint256\",\"name\":\"alreadyClaimed\",\"type\":\"uint256\"}],\"name\":\"NothingToClaim\",\"type\":\"error\"},{\"inputs\":[{\"internalType\":\"address\",\"name\":\"owner\",\"type\":\"address\"}],\"name\":\"OwnableInvalidOwner\",\"type\":\"error\"},{\"inputs\":[{\"internalType\":\"address\",\"name\":\"account\",\"type\":\"address\"}],\"name\":\"OwnableUnauthorizedAccount\",\"type\":\"error\"},{\"inputs\":[{\"internalType\":\"address\",\"name\":\"token\",\"type\":\"address\"}],\"name\":\"SafeERC20FailedOperation\",\"type\":\"error\"},{\"inputs\":[],\"name\":\"ZeroAddress\",\"type\":\"error\"},{\"inputs\":[],\"name\":\"ZeroRoot\",\"type\":\"error\"},{\"anonymous\":false,\"inputs\":[{\"indexed\":true,\"internalType\":\"address\",\"name\":\"account\",\"type\":\"address\"},{\"indexed\":false,\"internalType\":\"uint256\",\"name\":\"amount\",\"type\":\"uint256\"},{\"indexed\":false,\"internalType\":\"uint256\",\"name\":\"cumulative\",\"type\":\"uint256\"}],\"name\":\"Claimed\",\"type\":\"event\"},{\"anonymous\":false,\"inputs\":[{\"indexed\":true,\"internalType\":\"address\",\"name\":\"previousOwner\",\"type\":\"address\"},{\"indexed\":true,\"internalType\":\"address\",\"name\":\"newOwner\",\"type\":\"address\"}],\"name\":\"OwnershipTransferred\",\"type\":\"event\"},{\"anonymous\":false,\"inputs\":[{\"indexed\":true,\"internalType\":\"address\",\"name\":\"poster\",\"type\":\"address\"},{\"indexed\":false,\"internalType\":\"bool\",\"name\":\"allowed\",\"type\":\"bool\"}],\"name\":\"PosterSet\",\"type\":\"event\"},{\"anonymous\":false,\"inputs\":[{\"indexed\":true,\"internalType\":\"uint64\",\"name\":\"epoch\",\"type\":\"uint64\"},{\"indexed\":false,\"internalType\":\"bytes32\",\"name\":\"root\",\"type\":\"bytes32\"}],\"name\":\"RootPosted\",\"type\":\"event\"},{\"inputs\":[{\"internalType\":\"address\",\"name\":\"account\",\"type\":\"address\"},{\"internalType\":\"uint256\",\"name\":\"cumulativeAmount\",\"type\":\"uint256\"},{\"internalType\":\"bytes32[]\",\"name\":\"proof\",\"type\":\"bytes32[]\"}],\"name\":\"claim\",\"outputs\":[],\"stateMutability\":\"nonpayable\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"address\",\"name\":\"account\",\"type\":\"address\"}],\"name\":\"claimed\",\"outputs\":[{\"internalType\":\"uint256\",\"name\":\"\",\"type\":\"uint256\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[],\"name\":\"currentEpoch\",\"outputs\":[{\"internalType\":\"uint64\",\"name\":\"\",\"type\":\"uint64\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[],\"name\":\"currentRoot\",\"outputs\":[{\"internalType\":\"bytes32\",\"name\":\"\",\"type\":\"bytes32\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"address\",\"name\":\"poster\",\"type\":\"address\"}],\"name\":\"isPoster\",\"outputs\":[{\"internalType\":\"bool\",\"name\":\"\",\"type\":\"bool\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[],\"name\":\"owner\",\"outputs\":[{\"internalType\":\"address\",\"name\":\"\",\"type\":\"address\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"uint64\",\"name\":\"epoch\",\"type\":\"uint64\"},{\"internalType\":\"bytes32\",\"name\":\"root\",\"type\":\"bytes32\"}],\"name\":\"postRoot\",\"outputs\":[],\"stateMutability\":\"nonpayable\",\"type\":\"function\"},{\"inputs\":[],\"name\":\"renounceOwnership\",\"outputs\":[],\"stateMutability\":\"nonpayable\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"address\",\"name\":\"poster\",\"type\":\"address\"},{\"internalType\":\"bool\",\"name\":\"allowed\",\"type\":\"bool\"}],\"name\":\"setPoster\",\"outputs\":[],\"stateMutability\":\"nonpayable\",\"type\":\"function\"},{\"inputs\":[],\"name\":\"token\",\"outputs\":[{\"internalType\":\"contractIERC20\",\"name\":\"\",\"type\":\"address\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"address\",\"name\":\"newOwner\",\"type\":\"address\"}],\"name\":\"transferOwnership\",\"outputs\":[],\"stateMutability\":\"nonpayable\",\"type\":\"function\"}]",
	Bin: "0x60a060405234801561000f575f5ffd5b50604051610c08380380610c0883398101604081905261002e91610105565b806001600160a01b03811661005c57604051631e4fbdf760e01b81525f600482015260240160405180910390fd5b6100658161009f565b506001600160a01b03821661008d5760405163d92e233d60e01b815260040160405180910390fd5b506001600160a01b031660805261013d565b5f80546001600160a01b038381166001600160a01b0319831681178455604051919092169283917f8be0079c531659141344cd1fd0a4f28419497f9722a3daafe3b4186f6b6457e09190a35050565b6001600160a01b0381168114610102575f5ffd5b50565b5f5f60408385031215610116575f5ffd5b8251610121816100ee565b6020840151909250610132816100ee565b809150509250929050565b608051610aac61015c5f395f81816101f201526104e60152610aac5ff3fe608060405234801561000f575f5ffd5b50600436106100c4575f3560e01c8063766718081161007d578063f2fde38b11610058578063f2fde38b146101da578063fc0c546a146101ed578063fdab463d14610214575f5ffd5b806376671808146101425780638da5cb5b1461016f578063c884ef83146101ad575f5ffd5b80633d13f874116100ad5780633d13f874146101145780634882d0c814610127578063715018a61461013a575f5ffd5b80631b25ba61146100c857806333a170ff146100ff575b5f5ffd5b6100ea6100d6366004610939565b60036020525f908152604090205460ff1681565b60405190151581526020015b60405180910390f35b61011261010d366004610952565b61021d565b005b61011261012236600461098b565b6102fc565b610112610135366004610a11565b610516565b610112610664565b6002546101569067ffffffffffffffff1681565b60405167ffffffffffffffff90911681526020016100f6565b5f5473ffffffffffffffffffffffffffffffffffffffff165b60405173ffffffffffffffffffffffffffffffffffffffff90911681526020016100f6565b6101cc6101bb366004610939565b60046020525f908152604090205481565b6040519081526020016100f6565b6101126101e8366004610939565b610677565b6101887f000000000000000000000000000000000000000000000000000000000000000081565b6101cc60015481565b6102256106da565b73ffffffffffffffffffffffffffffffffffffffff8216610272576040517fd92e233d00000000000000000000000000000000000000000000000000000000815260040160405180910390fd5b73ffffffffffffffffffffffffffffffffffffffff82165f8181526003602090815260409182902080547fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff001685151590811790915591519182527f3da19a2cb558b1fcec9947c13144c03185aa0074e2dbeeab3ab9c54f090616cc91015b60405180910390a25050565b6040805173ffffffffffffffffffffffffffffffffffffffff861660208201529081018490525f90606001604080517fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffe08184030181528282528051602091820120908301520160405160208183030381529060405280519060200120905061038883836001548461072c565b6103be576040517f09bde33900000000000000000000000000000000000000000000000000000000815260040160405180910390fd5b73ffffffffffffffffffffffffffffffffffffffff85165f90815260046020526040902054808511610447576040517f0cfa2bb000000000000000000000000000000000000000000000000000000000815273ffffffffffffffffffffffffffffffffffffffff8716600482015260248101869052604481018290526064015b60405180910390fd5b73ffffffffffffffffffffffffffffffffffffffff86165f9081526004602052604081208690556104788287610a47565b604080518281526020810189905291925073ffffffffffffffffffffffffffffffffffffffff8916917f987d620f307ff6b94d58743cb7a7509f24071586a77759b77c2d4e29f75a2f9a910160405180910390a261050d73ffffffffffffffffffffffffffffffffffffffff7f0000000000000000000000000000000000000000000000000000000000000000168883610743565b50505050505050565b335f9081526003602052604090205460ff16610560576040517f6951ee5200000000000000000000000000000000000000000000000000000000815233600482015260240161043e565b80610597576040517fb263ae7300000000000000000000000000000000000000000000000000000000815260040160405180910390fd5b60025467ffffffffffffffff908116908316116105f8576002546040517f98152d8200000000000000000000000000000000000000000000000000000000815267ffffffffffffffff8085166004830152909116602482015260440161043e565b600280547fffffffffffffffffffffffffffffffffffffffffffffffff00000000000000001667ffffffffffffffff841690811790915560018290556040518281527f8c896e59121809fe87ce5ffd0f5fd63f6bf1d0eb1ad2902756c54220866c137f906020016102f0565b61066c6106da565b6106755f6107a3565b565b61067f6106da565b73ffffffffffffffffffffffffffffffffffffffff81166106ce576040517f1e4fbdf70000000000000000000000000000000000000000000000000000000081525f600482015260240161043e565b6106d7816107a3565b50565b5f5473ffffffffffffffffffffffffffffffffffffffff163314610675576040517f118cdaa700000000000000000000000000000000000000000000000000000000815233600482015260240161043e565b5f82610739868685610817565b1495945050505050565b6107508383836001610858565b61079e576040517f5274afe700000000000000000000000000000000000000000000000000000000815273ffffffffffffffffffffffffffffffffffffffff8416600482015260240161043e565b505050565b5f805473ffffffffffffffffffffffffffffffffffffffff8381167fffffffffffffffffffffffff0000000000000000000000000000000000000000831681178455604051919092169283917f8be0079c531659141344cd1fd0a4f28419497f9722a3daafe3b4186f6b6457e09190a35050565b5f81815b8481101561084f576108458287878481811061083957610839610a7f565b905060200201356108e0565b915060010161081b565b50949350505050565b6040517fa9059cbb000000000000000000000000000000000000000000000000000000005f81815273ffffffffffffffffffffffffffffffffffffffff8616600452602485905291602083604481808b5af1925060015f511483166108d45783831516156108c8573d5f823e3d81fd5b5f873b113d1516831692505b60405250949350505050565b5f8183106108fa575f828152602084905260409020610908565b5f8381526020839052604090205b90505b92915050565b803573ffffffffffffffffffffffffffffffffffffffff81168114610934575f5ffd5b919050565b5f60208284031215610949575f5ffd5b61090882610911565b5f5f60408385031215610963575f5ffd5b61096c83610911565b915060208301358015158114610980575f5ffd5b809150509250929050565b5f5f5f5f6060858703121561099e575f5ffd5b6109a785610911565b935060208501359250604085013567ffffffffffffffff8111156109c9575f5ffd5b8501601f810187136109d9575f5ffd5b803567ffffffffffffffff8111156109ef575f5ffd5b8760208260051b8401011115610a03575f5ffd5b949793965060200194505050565b5f5f60408385031215610a22575f5ffd5b823567ffffffffffffffff81168114610a39575f5ffd5b946020939093013593505050565b8181038181111561090b577f4e487b71000000000000000000000000000000000000000000000000000000005f52601160045260245ffd5b7f4e487b71000000000000000000000000000000000000000000000000000000005f52603260045260245ffd",
}

// RewardsDistributorABI is the input ABI used to generate the binding from.
// Deprecated: Use RewardsDistributorMetaData.ABI instead.
var RewardsDistributorABI = RewardsDistributorMetaData.ABI

// RewardsDistributorBin is the compiled bytecode used for deploying new contracts.
// Deprecated: Use RewardsDistributorMetaData.Bin instead.
var RewardsDistributorBin = RewardsDistributorMetaData.Bin

// DeployRewardsDistributor deploys a new Ethereum contract, binding an instance of RewardsDistributor to it.
func DeployRewardsDistributor(auth *bind.TransactOpts, backend bind.ContractBackend, token_ common.Address, initialOwner common.Address) (common.Address, *types.Transaction, *RewardsDistributor, error) {
	parsed, err := RewardsDistributorMetaData.GetAbi()
	if err != nil {
		return common.Address{}, nil, nil, err
	}
	if parsed == nil {
		return common.Address{}, nil, nil, errors.New("GetABI returned nil")
	}

	address, tx, contract, err := bind.DeployContract(auth, *parsed, common.FromHex(RewardsDistributorBin), backend, token_, initialOwner)
	if err != nil {
		return common.Address{}, nil, nil, err
	}
	return address, tx, &RewardsDistributor{RewardsDistributorCaller: RewardsDistributorCaller{contract: contract}, RewardsDistributorTransactor: RewardsDistributorTransactor{contract: contract}, RewardsDistributorFilterer: RewardsDistributorFilterer{contract: contract}}, nil
}

// RewardsDistributor is an auto generated Go binding around an Ethereum contract.
type RewardsDistributor struct {
	RewardsDistributorCaller     // Read-only binding to the contract
	RewardsDistributorTransactor // Write-only binding to the contract
	RewardsDistributorFilterer   // Log filterer for contract events
}

// RewardsDistributorCaller is an auto generated read-only Go binding around an Ethereum contract.
type RewardsDistributorCaller struct {
	contract *bind.BoundContract // Generic contract wrapper for the low level calls
}

// RewardsDistributorTransactor is an auto generated write-only Go binding around an Ethereum contract.
type RewardsDistributorTransactor struct {
	contract *bind.BoundContract // Generic contract wrapper for the low level calls
}

// RewardsDistributorFilterer is an auto generated log filtering Go binding around an Ethereum contract events.
type RewardsDistributorFilterer struct {
	contract *bind.BoundContract // Generic contract wrapper for the low level calls
}

// RewardsDistributorSession is an auto generated Go binding around an Ethereum contract,
// with pre-set call and transact options.
type RewardsDistributorSession struct {
	Contract     *RewardsDistributor // Generic contract binding to set the session for
	CallOpts     bind.CallOpts       // Call options to use throughout this session
	TransactOpts bind.TransactOpts   // Transaction auth options to use throughout this session
}

// RewardsDistributorCallerSession is an auto generated read-only Go binding around an Ethereum contract,
// with pre-set call options.
type RewardsDistributorCallerSession struct {
	Contract *RewardsDistributorCaller // Generic contract caller binding to set the session for
	CallOpts bind.CallOpts             // Call options to use throughout this session
}

// RewardsDistributorTransactorSession is an auto generated write-only Go binding around an Ethereum contract,
// with pre-set transact options.
type RewardsDistributorTransactorSession struct {
	Contract     *RewardsDistributorTransactor // Generic contract transactor binding to set the session for
	TransactOpts bind.TransactOpts             // Transaction auth options to use throughout this session
}

// RewardsDistributorRaw is an auto generated low-level Go binding around an Ethereum contract.
type RewardsDistributorRaw struct {
	Contract *RewardsDistributor // Generic contract binding to access the raw methods on
}

// RewardsDistributorCallerRaw is an auto generated low-level read-only Go binding around an Ethereum contract.
type RewardsDistributorCallerRaw struct {
	Contract *RewardsDistributorCaller // Generic read-only contract binding to access the raw methods on
}

// RewardsDistributorTransactorRaw is an auto generated low-level write-only Go binding around an Ethereum contract.
type RewardsDistributorTransactorRaw struct {
	Contract *RewardsDistributorTransactor // Generic write-only contract binding to access the raw methods on
}

// NewRewardsDistributor creates a new instance of RewardsDistributor, bound to a specific deployed contract.
func NewRewardsDistributor(address common.Address, backend bind.ContractBackend) (*RewardsDistributor, error) {
	contract, err := bindRewardsDistributor(address, backend, backend, backend)
	if err != nil {
		return nil, err
	}
	return &RewardsDistributor{RewardsDistributorCaller: RewardsDistributorCaller{contract: contract}, RewardsDistributorTransactor: RewardsDistributorTransactor{contract: contract}, RewardsDistributorFilterer: RewardsDistributorFilterer{contract: contract}}, nil
}

// NewRewardsDistributorCaller creates a new read-only instance of RewardsDistributor, bound to a specific deployed contract.
func NewRewardsDistributorCaller(address common.Address, caller bind.ContractCaller) (*RewardsDistributorCaller, error) {
	contract, err := bindRewardsDistributor(address, caller, nil, nil)
	if err != nil {
		return nil, err
	}
	return &RewardsDistributorCaller{contract: contract}, nil
}

// NewRewardsDistributorTransactor creates a new write-only instance of RewardsDistributor, bound to a specific deployed contract.
func NewRewardsDistributorTransactor(address common.Address, transactor bind.ContractTransactor) (*RewardsDistributorTransactor, error) {
	contract, err := bindRewardsDistributor(address, nil, transactor, nil)
	if err != nil {
		return nil, err
	}
	return &RewardsDistributorTransactor{contract: contract}, nil
}

// NewRewardsDistributorFilterer creates a new log filterer instance of RewardsDistributor, bound to a specific deployed contract.
func NewRewardsDistributorFilterer(address common.Address, filterer bind.ContractFilterer) (*RewardsDistributorFilterer, error) {
	contract, err := bindRewardsDistributor(address, nil, nil, filterer)
	if err != nil {
		return nil, err
	}
	return &RewardsDistributorFilterer{contract: contract}, nil
}

// bindRewardsDistributor binds a generic wrapper to an already deployed contract.
func bindRewardsDistributor(address common.Address, caller bind.ContractCaller, transactor bind.ContractTransactor, filterer bind.ContractFilterer) (*bind.BoundContract, error) {
	parsed, err := RewardsDistributorMetaData.GetAbi()
	if err != nil {
		return nil, err
	}
	return bind.NewBoundContract(address, *parsed, caller, transactor, filterer), nil
}

// Call invokes the (constant) contract method with params as input values and
// sets the output to result. The result type might be a single field for simple
// returns, a slice of interfaces for anonymous returns and a struct for named
// returns.
func (_RewardsDistributor *RewardsDistributorRaw) Call(opts *bind.CallOpts, result *[]interface{}, method string, params ...interface{}) error {
	return _RewardsDistributor.Contract.RewardsDistributorCaller.contract.Call(opts, result, method, params...)
}

// Transfer initiates a plain transaction to move funds to the contract, calling
// its default method if one is available.
func (_RewardsDistributor *RewardsDistributorRaw) Transfer(opts *bind.TransactOpts) (*types.Transaction, error) {
	return _RewardsDistributor.Contract.RewardsDistributorTransactor.contract.Transfer(opts)
}

// Transact invokes the (paid) contract method with params as input values.
func (_RewardsDistributor *RewardsDistributorRaw) Transact(opts *bind.TransactOpts, method string, params ...interface{}) (*types.Transaction, error) {
	return _RewardsDistributor.Contract.RewardsDistributorTransactor.contract.Transact(opts, method, params...)
}

// Call invokes the (constant) contract method with params as input values and
// sets the output to result. The result type might be a single field for simple
// returns, a slice of interfaces for anonymous returns and a struct for named
// returns.
func (_RewardsDistributor *RewardsDistributorCallerRaw) Call(opts *bind.CallOpts, result *[]interface{}, method string, params ...interface{}) error {
	return _RewardsDistributor.Contract.contract.Call(opts, result, method, params...)
}

// Transfer initiates a plain transaction to move funds to the contract, calling
// its default method if one is available.
func (_RewardsDistributor *RewardsDistributorTransactorRaw) Transfer(opts *bind.TransactOpts) (*types.Transaction, error) {
	return _RewardsDistributor.Contract.contract.Transfer(opts)
}

// Transact invokes the (paid) contract method with params as input values.
func (_RewardsDistributor *RewardsDistributorTransactorRaw) Transact(opts *bind.TransactOpts, method string, params ...interface{}) (*types.Transaction, error) {
	return _RewardsDistributor.Contract.contract.Transact(opts, method, params...)
}

// Claimed is a free data retrieval call binding the contract method 0xc884ef83.
//
// Solidity: function claimed(address account) view returns(uint256)
func (_RewardsDistributor *RewardsDistributorCaller) Claimed(opts *bind.CallOpts, account common.Address) (*big.Int, error) {
	var out []interface{}
	err := _RewardsDistributor.contract.Call(opts, &out, "claimed", account)

	if err != nil {
		return *new(*big.Int), err
	}

	out0 := *abi.ConvertType(out[0], new(*big.Int)).(**big.Int)

	return out0, err

}

// Claimed is a free data retrieval call binding the contract method 0xc884ef83.
//
// Solidity: function claimed(address account) view returns(uint256)
func (_RewardsDistributor *RewardsDistributorSession) Claimed(account common.Address) (*big.Int, error) {
	return _RewardsDistributor.Contract.Claimed(&_RewardsDistributor.CallOpts, account)
}

// Claimed is a free data retrieval call binding the contract method 0xc884ef83.
//
// Solidity: function claimed(address account) view returns(uint256)
func (_RewardsDistributor *RewardsDistributorCallerSession) Claimed(account common.Address) (*big.Int, error) {
	return _RewardsDistributor.Contract.Claimed(&_RewardsDistributor.CallOpts, account)
}

// CurrentEpoch is a free data retrieval call binding the contract method 0x76671808.
//
// Solidity: function currentEpoch() view returns(uint64)
func (_RewardsDistributor *RewardsDistributorCaller) CurrentEpoch(opts *bind.CallOpts) (uint64, error) {
	var out []interface{}
	err := _RewardsDistributor.contract.Call(opts, &out, "currentEpoch")

	if err != nil {
		return *new(uint64), err
	}

	out0 := *abi.ConvertType(out[0], new(uint64)).(*uint64)

	return out0, err

}

// CurrentEpoch is a free data retrieval call binding the contract method 0x76671808.
//
// Solidity: function currentEpoch() view returns(uint64)
func (_RewardsDistributor *RewardsDistributorSession) CurrentEpoch() (uint64, error) {
	return _RewardsDistributor.Contract.CurrentEpoch(&_RewardsDistributor.CallOpts)
}

// CurrentEpoch is a free data retrieval call binding the contract method 0x76671808.
//
// Solidity: function currentEpoch() view returns(uint64)
func (_RewardsDistributor *RewardsDistributorCallerSession) CurrentEpoch() (uint64, error) {
	return _RewardsDistributor.Contract.CurrentEpoch(&_RewardsDistributor.CallOpts)
}

// CurrentRoot is a free data retrieval call binding the contract method 0xfdab463d.
//
// Solidity: function currentRoot() view returns(bytes32)
func (_RewardsDistributor *RewardsDistributorCaller) CurrentRoot(opts *bind.CallOpts) ([32]byte, error) {
	var out []interface{}
	err := _RewardsDistributor.contract.Call(opts, &out, "currentRoot")

	if err != nil {
		return *new([32]byte), err
	}

	out0 := *abi.ConvertType(out[0], new([32]byte)).(*[32]byte)

	return out0, err

}

// CurrentRoot is a free data retrieval call binding the contract method 0xfdab463d.
//
// Solidity: function currentRoot() view returns(bytes32)
func (_RewardsDistributor *RewardsDistributorSession) CurrentRoot() ([32]byte, error) {
	return _RewardsDistributor.Contract.CurrentRoot(&_RewardsDistributor.CallOpts)
}

// CurrentRoot is a free data retrieval call binding the contract method 0xfdab463d.
//
// Solidity: function currentRoot() view returns(bytes32)
func (_RewardsDistributor *RewardsDistributorCallerSession) CurrentRoot() ([32]byte, error) {
	return _RewardsDistributor.Contract.CurrentRoot(&_RewardsDistributor.CallOpts)
}

// IsPoster is a free data retrieval call binding the contract method 0x1b25ba61.
//
// Solidity: function isPoster(address poster) view returns(bool)
func (_RewardsDistributor *RewardsDistributorCaller) IsPoster(opts *bind.CallOpts, poster common.Address) (bool, error) {
	var out []interface{}
	err := _RewardsDistributor.contract.Call(opts, &out, "isPoster", poster)

	if err != nil {
		return *new(bool), err
	}

	out0 := *abi.ConvertType(out[0], new(bool)).(*bool)

	return out0, err

}

// IsPoster is a free data retrieval call binding the contract method 0x1b25ba61.
//
// Solidity: function isPoster(address poster) view returns(bool)
func (_RewardsDistributor *RewardsDistributorSession) IsPoster(poster common.Address) (bool, error) {
	return _RewardsDistributor.Contract.IsPoster(&_RewardsDistributor.CallOpts, poster)
}

// IsPoster is a free data retrieval call binding the contract method 0x1b25ba61.
//
// Solidity: function isPoster(address poster) view returns(bool)
func (_RewardsDistributor *RewardsDistributorCallerSession) IsPoster(poster common.Address) (bool, error) {
	return _RewardsDistributor.Contract.IsPoster(&_RewardsDistributor.CallOpts, poster)
}

// Owner is a free data retrieval call binding the contract method 0x8da5cb5b.
//
// Solidity: function owner() view returns(address)
func (_RewardsDistributor *RewardsDistributorCaller) Owner(opts *bind.CallOpts) (common.Address, error) {
	var out []interface{}
	err := _RewardsDistributor.contract.Call(opts, &out, "owner")

	if err != nil {
		return *new(common.Address), err
	}

	out0 := *abi.ConvertType(out[0], new(common.Address)).(*common.Address)

	return out0, err

}

// Owner is a free data retrieval call binding the contract method 0x8da5cb5b.
//
// Solidity: function owner() view returns(address)
func (_RewardsDistributor *RewardsDistributorSession) Owner() (common.Address, error) {
	return _RewardsDistributor.Contract.Owner(&_RewardsDistributor.CallOpts)
}

// Owner is a free data retrieval call binding the contract method 0x8da5cb5b.
//
// Solidity: function owner() view returns(address)
func (_RewardsDistributor *RewardsDistributorCallerSession) Owner() (common.Address, error) {
	return _RewardsDistributor.Contract.Owner(&_RewardsDistributor.CallOpts)
}

// Token is a free data retrieval call binding the contract method 0xfc0c546a.
//
// Solidity: function token() view returns(address)
func (_RewardsDistributor *RewardsDistributorCaller) Token(opts *bind.CallOpts) (common.Address, error) {
	var out []interface{}
	err := _RewardsDistributor.contract.Call(opts, &out, "token")

	if err != nil {
		return *new(common.Address), err
	}

	out0 := *abi.ConvertType(out[0], new(common.Address)).(*common.Address)

	return out0, err

}

// Token is a free data retrieval call binding the contract method 0xfc0c546a.
//
// Solidity: function token() view returns(address)
func (_RewardsDistributor *RewardsDistributorSession) Token() (common.Address, error) {
	return _RewardsDistributor.Contract.Token(&_RewardsDistributor.CallOpts)
}

// Token is a free data retrieval call binding the contract method 0xfc0c546a.
//
// Solidity: function token() view returns(address)
func (_RewardsDistributor *RewardsDistributorCallerSession) Token() (common.Address, error) {
	return _RewardsDistributor.Contract.Token(&_RewardsDistributor.CallOpts)
}

// Claim is a paid mutator transaction binding the contract method 0x3d13f874.
//
// Solidity: function claim(address account, uint256 cumulativeAmount, bytes32[] proof) returns()
func (_RewardsDistributor *RewardsDistributorTransactor) Claim(opts *bind.TransactOpts, account common.Address, cumulativeAmount *big.Int, proof [][32]byte) (*types.Transaction, error) {
	return _RewardsDistributor.contract.Transact(opts, "claim", account, cumulativeAmount, proof)
}

// Claim is a paid mutator transaction binding the contract method 0x3d13f874.
//
// Solidity: function claim(address account, uint256 cumulativeAmount, bytes32[] proof) returns()
func (_RewardsDistributor *RewardsDistributorSession) Claim(account common.Address, cumulativeAmount *big.Int, proof [][32]byte) (*types.Transaction, error) {
	return _RewardsDistributor.Contract.Claim(&_RewardsDistributor.TransactOpts, account, cumulativeAmount, proof)
}

// Claim is a paid mutator transaction binding the contract method 0x3d13f874.
//
// Solidity: function claim(address account, uint256 cumulativeAmount, bytes32[] proof) returns()
func (_RewardsDistributor *RewardsDistributorTransactorSession) Claim(account common.Address, cumulativeAmount *big.Int, proof [][32]byte) (*types.Transaction, error) {
	return _RewardsDistributor.Contract.Claim(&_RewardsDistributor.TransactOpts, account, cumulativeAmount, proof)
}

// PostRoot is a paid mutator transaction binding the contract method 0x4882d0c8.
//
// Solidity: function postRoot(uint64 epoch, bytes32 root) returns()
func (_RewardsDistributor *RewardsDistributorTransactor) PostRoot(opts *bind.TransactOpts, epoch uint64, root [32]byte) (*types.Transaction, error) {
	return _RewardsDistributor.contract.Transact(opts, "postRoot", epoch, root)
}

// PostRoot is a paid mutator transaction binding the contract method 0x4882d0c8.
//
// Solidity: function postRoot(uint64 epoch, bytes32 root) returns()
func (_RewardsDistributor *RewardsDistributorSession) PostRoot(epoch uint64, root [32]byte) (*types.Transaction, error) {
	return _RewardsDistributor.Contract.PostRoot(&_RewardsDistributor.TransactOpts, epoch, root)
}

// PostRoot is a paid mutator transaction binding the contract method 0x4882d0c8.
//
// Solidity: function postRoot(uint64 epoch, bytes32 root) returns()
func (_RewardsDistributor *RewardsDistributorTransactorSession) PostRoot(epoch uint64, root [32]byte) (*types.Transaction, error) {
	return _RewardsDistributor.Contract.PostRoot(&_RewardsDistributor.TransactOpts, epoch, root)
}

// RenounceOwnership is a paid mutator transaction binding the contract method 0x715018a6.
//
// Solidity: function renounceOwnership() returns()
func (_RewardsDistributor *RewardsDistributorTransactor) RenounceOwnership(opts *bind.TransactOpts) (*types.Transaction, error) {
	return _RewardsDistributor.contract.Transact(opts, "renounceOwnership")
}

// RenounceOwnership is a paid mutator transaction binding the contract method 0x715018a6.
//
// Solidity: function renounceOwnership() returns()
func (_RewardsDistributor *RewardsDistributorSession) RenounceOwnership() (*types.Transaction, error) {
	return _RewardsDistributor.Contract.RenounceOwnership(&_RewardsDistributor.TransactOpts)
}

// RenounceOwnership is a paid mutator transaction binding the contract method 0x715018a6.
//
// Solidity: function renounceOwnership() returns()
func (_RewardsDistributor *RewardsDistributorTransactorSession) RenounceOwnership() (*types.Transaction, error) {
	return _RewardsDistributor.Contract.RenounceOwnership(&_RewardsDistributor.TransactOpts)
}

// SetPoster is a paid mutator transaction binding the contract method 0x33a170ff.
//
// Solidity: function setPoster(address poster, bool allowed) returns()
func (_RewardsDistributor *RewardsDistributorTransactor) SetPoster(opts *bind.TransactOpts, poster common.Address, allowed bool) (*types.Transaction, error) {
	return _RewardsDistributor.contract.Transact(opts, "setPoster", poster, allowed)
}

// SetPoster is a paid mutator transaction binding the contract method 0x33a170ff.
//
// Solidity: function setPoster(address poster, bool allowed) returns()
func (_RewardsDistributor *RewardsDistributorSession) SetPoster(poster common.Address, allowed bool) (*types.Transaction, error) {
	return _RewardsDistributor.Contract.SetPoster(&_RewardsDistributor.TransactOpts, poster, allowed)
}

// SetPoster is a paid mutator transaction binding the contract method 0x33a170ff.
//
// Solidity: function setPoster(address poster, bool allowed) returns()
func (_RewardsDistributor *RewardsDistributorTransactorSession) SetPoster(poster common.Address, allowed bool) (*types.Transaction, error) {
	return _RewardsDistributor.Contract.SetPoster(&_RewardsDistributor.TransactOpts, poster, allowed)
}

// TransferOwnership is a paid mutator transaction binding the contract method 0xf2fde38b.
//
// Solidity: function transferOwnership(address newOwner) returns()
func (_RewardsDistributor *RewardsDistributorTransactor) TransferOwnership(opts *bind.TransactOpts, newOwner common.Address) (*types.Transaction, error) {
	return _RewardsDistributor.contract.Transact(opts, "transferOwnership", newOwner)
}

// TransferOwnership is a paid mutator transaction binding the contract method 0xf2fde38b.
//
// Solidity: function transferOwnership(address newOwner) returns()
func (_RewardsDistributor *RewardsDistributorSession) TransferOwnership(newOwner common.Address) (*types.Transaction, error) {
	return _RewardsDistributor.Contract.TransferOwnership(&_RewardsDistributor.TransactOpts, newOwner)
}

// TransferOwnership is a paid mutator transaction binding the contract method 0xf2fde38b.
//
// Solidity: function transferOwnership(address newOwner) returns()
func (_RewardsDistributor *RewardsDistributorTransactorSession) TransferOwnership(newOwner common.Address) (*types.Transaction, error) {
	return _RewardsDistributor.Contract.TransferOwnership(&_RewardsDistributor.TransactOpts, newOwner)
}

// RewardsDistributorClaimedIterator is returned from FilterClaimed and is used to iterate over the raw logs and unpacked data for Claimed events raised by the RewardsDistributor contract.
type RewardsDistributorClaimedIterator struct {
	Event *RewardsDistributorClaimed // Event containing the contract specifics and raw log

	contract *bind.BoundContract // Generic contract to use for unpacking event data
	event    string              // Event name to use for unpacking event data

	logs chan types.Log        // Log channel receiving the found contract events
	sub  ethereum.Subscription // Subscription for errors, completion and termination
	done bool                  // Whether the subscription completed delivering logs
	fail error                 // Occurred error to stop iteration
}

// Next advances the iterator to the subsequent event, returning whether there
// are any more events found. In case of a retrieval or parsing error, false is
// returned and Error() can be queried for the exact failure.
func (it *RewardsDistributorClaimedIterator) Next() bool {
	// If the iterator failed, stop iterating
	if it.fail != nil {
		return false
	}
	// If the iterator completed, deliver directly whatever's available
	if it.done {
		select {
		case log := <-it.logs:
			it.Event = new(RewardsDistributorClaimed)
			if err := it.contract.UnpackLog(it.Event, it.event, log); err != nil {
				it.fail = err
				return false
			}
			it.Event.Raw = log
			return true

		default:
			return false
		}
	}
	// Iterator still in progress, wait for either a data or an error event
	select {
	case log := <-it.logs:
		it.Event = new(RewardsDistributorClaimed)
		if err := it.contract.UnpackLog(it.Event, it.event, log); err != nil {
			it.fail = err
			return false
		}
		it.Event.Raw = log
		return true

	case err := <-it.sub.Err():
		it.done = true
		it.fail = err
		return it.Next()
	}
}

// Error returns any retrieval or parsing error occurred during filtering.
func (it *RewardsDistributorClaimedIterator) Error() error {
	return it.fail
}

// Close terminates the iteration process, releasing any pending underlying
// resources.
func (it *RewardsDistributorClaimedIterator) Close() error {
	it.sub.Unsubscribe()
	return nil
}

// RewardsDistributorClaimed represents a Claimed event raised by the RewardsDistributor contract.
type RewardsDistributorClaimed struct {
	Account    common.Address
	Amount     *big.Int
	Cumulative *big.Int
	Raw        types.Log // Blockchain specific contextual infos
}

// FilterClaimed is a free log retrieval operation binding the contract event 0x987d620f307ff6b94d58743cb7a7509f24071586a77759b77c2d4e29f75a2f9a.
//
// Solidity: event Claimed(address indexed account, uint256 amount, uint256 cumulative)
func (_RewardsDistributor *RewardsDistributorFilterer) FilterClaimed(opts *bind.FilterOpts, account []common.Address) (*RewardsDistributorClaimedIterator, error) {

	var accountRule []interface{}
	for _, accountItem := range account {
		accountRule = append(accountRule, accountItem)
	}

	logs, sub, err := _RewardsDistributor.contract.FilterLogs(opts, "Claimed", accountRule)
	if err != nil {
		return nil, err
	}
	return &RewardsDistributorClaimedIterator{contract: _RewardsDistributor.contract, event: "Claimed", logs: logs, sub: sub}, nil
}

// WatchClaimed is a free log subscription operation binding the contract event 0x987d620f307ff6b94d58743cb7a7509f24071586a77759b77c2d4e29f75a2f9a.
//
// Solidity: event Claimed(address indexed account, uint256 amount, uint256 cumulative)
func (_RewardsDistributor *RewardsDistributorFilterer) WatchClaimed(opts *bind.WatchOpts, sink chan<- *RewardsDistributorClaimed, account []common.Address) (event.Subscription, error) {

	var accountRule []interface{}
	for _, accountItem := range account {
		accountRule = append(accountRule, accountItem)
	}

	logs, sub, err := _RewardsDistributor.contract.WatchLogs(opts, "Claimed", accountRule)
	if err != nil {
		return nil, err
	}
	return event.NewSubscription(func(quit <-chan struct{}) error {
		defer sub.Unsubscribe()
		for {
			select {
			case log := <-logs:
				// New log arrived, parse the event and forward to the user
				event := new(RewardsDistributorClaimed)
				if err := _RewardsDistributor.contract.UnpackLog(event, "Claimed", log); err != nil {
					// If the signature doesn't match, skip this log.
					if errors.Is(err, bind.ErrEventSignatureMismatch) {
						continue
					}
					return err
				}
				event.Raw = log

				select {
				case sink <- event:
				case err := <-sub.Err():
					return err
				case <-quit:
					return nil
				}
			case err := <-sub.Err():
				return err
			case <-quit:
				return nil
			}
		}
	}), nil
}

// ParseClaimed is a log parse operation binding the contract event 0x987d620f307ff6b94d58743cb7a7509f24071586a77759b77c2d4e29f75a2f9a.
//
// Solidity: event Claimed(address indexed account, uint256 amount, uint256 cumulative)
func (_RewardsDistributor *RewardsDistributorFilterer) ParseClaimed(log types.Log) (*RewardsDistributorClaimed, error) {
	event := new(RewardsDistributorClaimed)
	if err := _RewardsDistributor.contract.UnpackLog(event, "Claimed", log); err != nil {
		return nil, err
	}
	event.Raw = log
	return event, nil
}

// RewardsDistributorOwnershipTransferredIterator is returned from FilterOwnershipTransferred and is used to iterate over the raw logs and unpacked data for OwnershipTransferred events raised by the RewardsDistributor contract.
type RewardsDistributorOwnershipTransferredIterator struct {
	Event *RewardsDistributorOwnershipTransferred // Event containing the contract specifics and raw log

	contract *bind.BoundContract // Generic contract to use for unpacking event data
	event    string              // Event name to use for unpacking event data

	logs chan types.Log        // Log channel receiving the found contract events
	sub  ethereum.Subscription // Subscription for errors, completion and termination
	done bool                  // Whether the subscription completed delivering logs
	fail error                 // Occurred error to stop iteration
}

// Next advances the iterator to the subsequent event, returning whether there
// are any more events found. In case of a retrieval or parsing error, false is
// returned and Error() can be queried for the exact failure.
func (it *RewardsDistributorOwnershipTransferredIterator) Next() bool {
	// If the iterator failed, stop iterating
	if it.fail != nil {
		return false
	}
	// If the iterator completed, deliver directly whatever's available
	if it.done {
		select {
		case log := <-it.logs:
			it.Event = new(RewardsDistributorOwnershipTransferred)
			if err := it.contract.UnpackLog(it.Event, it.event, log); err != nil {
				it.fail = err
				return false
			}
			it.Event.Raw = log
			return true

		default:
			return false
		}
	}
	// Iterator still in progress, wait for either a data or an error event
	select {
	case log := <-it.logs:
		it.Event = new(RewardsDistributorOwnershipTransferred)
		if err := it.contract.UnpackLog(it.Event, it.event, log); err != nil {
			it.fail = err
			return false
		}
		it.Event.Raw = log
		return true

	case err := <-it.sub.Err():
		it.done = true
		it.fail = err
		return it.Next()
	}
}

// Error returns any retrieval or parsing error occurred during filtering.
func (it *RewardsDistributorOwnershipTransferredIterator) Error() error {
	return it.fail
}

// Close terminates the iteration process, releasing any pending underlying
// resources.
func (it *RewardsDistributorOwnershipTransferredIterator) Close() error {
	it.sub.Unsubscribe()
	return nil
}

// RewardsDistributorOwnershipTransferred represents a OwnershipTransferred event raised by the RewardsDistributor contract.
type RewardsDistributorOwnershipTransferred struct {
	PreviousOwner common.Address
	NewOwner      common.Address
	Raw           types.Log // Blockchain specific contextual infos
}

// FilterOwnershipTransferred is a free log retrieval operation binding the contract event 0x8be0079c531659141344cd1fd0a4f28419497f9722a3daafe3b4186f6b6457e0.
//
// Solidity: event OwnershipTransferred(address indexed previousOwner, address indexed newOwner)
func (_RewardsDistributor *RewardsDistributorFilterer) FilterOwnershipTransferred(opts *bind.FilterOpts, previousOwner []common.Address, newOwner []common.Address) (*RewardsDistributorOwnershipTransferredIterator, error) {

	var previousOwnerRule []interface{}
	for _, previousOwnerItem := range previousOwner {
		previousOwnerRule = append(previousOwnerRule, previousOwnerItem)
	}
	var newOwnerRule []interface{}
	for _, newOwnerItem := range newOwner {
		newOwnerRule = append(newOwnerRule, newOwnerItem)
	}

	logs, sub, err := _RewardsDistributor.contract.FilterLogs(opts, "OwnershipTransferred", previousOwnerRule, newOwnerRule)
	if err != nil {
		return nil, err
	}
	return &RewardsDistributorOwnershipTransferredIterator{contract: _RewardsDistributor.contract, event: "OwnershipTransferred", logs: logs, sub: sub}, nil
}

// WatchOwnershipTransferred is a free log subscription operation binding the contract event 0x8be0079c531659141344cd1fd0a4f28419497f9722a3daafe3b4186f6b6457e0.
//
// Solidity: event OwnershipTransferred(address indexed previousOwner, address indexed newOwner)
func (_RewardsDistributor *RewardsDistributorFilterer) WatchOwnershipTransferred(opts *bind.WatchOpts, sink chan<- *RewardsDistributorOwnershipTransferred, previousOwner []common.Address, newOwner []common.Address) (event.Subscription, error) {

	var previousOwnerRule []interface{}
	for _, previousOwnerItem := range previousOwner {
		previousOwnerRule = append(previousOwnerRule, previousOwnerItem)
	}
	var newOwnerRule []interface{}
	for _, newOwnerItem := range newOwner {
		newOwnerRule = append(newOwnerRule, newOwnerItem)
	}

	logs, sub, err := _RewardsDistributor.contract.WatchLogs(opts, "OwnershipTransferred", previousOwnerRule, newOwnerRule)
	if err != nil {
		return nil, err
	}
	return event.NewSubscription(func(quit <-chan struct{}) error {
		defer sub.Unsubscribe()
		for {
			select {
			case log := <-logs:
				// New log arrived, parse the event and forward to the user
				event := new(RewardsDistributorOwnershipTransferred)
				if err := _RewardsDistributor.contract.UnpackLog(event, "OwnershipTransferred", log); err != nil {
					// If the signature doesn't match, skip this log.
					if errors.Is(err, bind.ErrEventSignatureMismatch) {
						continue
					}
					return err
				}
				event.Raw = log

				select {
				case sink <- event:
				case err := <-sub.Err():
					return err
				case <-quit:
					return nil
				}
			case err := <-sub.Err():
				return err
			case <-quit:
				return nil
			}
		}
	}), nil
}

// ParseOwnershipTransferred is a log parse operation binding the contract event 0x8be0079c531659141344cd1fd0a4f28419497f9722a3daafe3b4186f6b6457e0.
//
// Solidity: event OwnershipTransferred(address indexed previousOwner, address indexed newOwner)
func (_RewardsDistributor *RewardsDistributorFilterer) ParseOwnershipTransferred(log types.Log) (*RewardsDistributorOwnershipTransferred, error) {
	event := new(RewardsDistributorOwnershipTransferred)
	if err := _RewardsDistributor.contract.UnpackLog(event, "OwnershipTransferred", log); err != nil {
		return nil, err
	}
	event.Raw = log
	return event, nil
}

// RewardsDistributorPosterSetIterator is returned from FilterPosterSet and is used to iterate over the raw logs and unpacked data for PosterSet events raised by the RewardsDistributor contract.
type RewardsDistributorPosterSetIterator struct {
	Event *RewardsDistributorPosterSet // Event containing the contract specifics and raw log

	contract *bind.BoundContract // Generic contract to use for unpacking event data
	event    string              // Event name to use for unpacking event data

	logs chan types.Log        // Log channel receiving the found contract events
	sub  ethereum.Subscription // Subscription for errors, completion and termination
	done bool                  // Whether the subscription completed delivering logs
	fail error                 // Occurred error to stop iteration
}

// Next advances the iterator to the subsequent event, returning whether there
// are any more events found. In case of a retrieval or parsing error, false is
// returned and Error() can be queried for the exact failure.
func (it *RewardsDistributorPosterSetIterator) Next() bool {
	// If the iterator failed, stop iterating
	if it.fail != nil {
		return false
	}
	// If the iterator completed, deliver directly whatever's available
	if it.done {
		select {
		case log := <-it.logs:
			it.Event = new(RewardsDistributorPosterSet)
			if err := it.contract.UnpackLog(it.Event, it.event, log); err != nil {
				it.fail = err
				return false
			}
			it.Event.Raw = log
			return true

		default:
			return false
		}
	}
	// Iterator still in progress, wait for either a data or an error event
	select {
	case log := <-it.logs:
		it.Event = new(RewardsDistributorPosterSet)
		if err := it.contract.UnpackLog(it.Event, it.event, log); err != nil {
			it.fail = err
			return false
		}
		it.Event.Raw = log
		return true

	case err := <-it.sub.Err():
		it.done = true
		it.fail = err
		return it.Next()
	}
}

// Error returns any retrieval or parsing error occurred during filtering.
func (it *RewardsDistributorPosterSetIterator) Error() error {
	return it.fail
}

// Close terminates the iteration process, releasing any pending underlying
// resources.
func (it *RewardsDistributorPosterSetIterator) Close() error {
	it.sub.Unsubscribe()
	return nil
}

// RewardsDistributorPosterSet represents a PosterSet event raised by the RewardsDistributor contract.
type RewardsDistributorPosterSet struct {
	Poster  common.Address
	Allowed bool
	Raw     types.Log // Blockchain specific contextual infos
}

// FilterPosterSet is a free log retrieval operation binding the contract event 0x3da19a2cb558b1fcec9947c13144c03185aa0074e2dbeeab3ab9c54f090616cc.
//
// Solidity: event PosterSet(address indexed poster, bool allowed)
func (_RewardsDistributor *RewardsDistributorFilterer) FilterPosterSet(opts *bind.FilterOpts, poster []common.Address) (*RewardsDistributorPosterSetIterator, error) {

	var posterRule []interface{}
	for _, posterItem := range poster {
		posterRule = append(posterRule, posterItem)
	}

	logs, sub, err := _RewardsDistributor.contract.FilterLogs(opts, "PosterSet", posterRule)
	if err != nil {
		return nil, err
	}
	return &RewardsDistributorPosterSetIterator{contract: _RewardsDistributor.contract, event: "PosterSet", logs: logs, sub: sub}, nil
}

// WatchPosterSet is a free log subscription operation binding the contract event 0x3da19a2cb558b1fcec9947c13144c03185aa0074e2dbeeab3ab9c54f090616cc.
//
// Solidity: event PosterSet(address indexed poster, bool allowed)
func (_RewardsDistributor *RewardsDistributorFilterer) WatchPosterSet(opts *bind.WatchOpts, sink chan<- *RewardsDistributorPosterSet, poster []common.Address) (event.Subscription, error) {

	var posterRule []interface{}
	for _, posterItem := range poster {
		posterRule = append(posterRule, posterItem)
	}

	logs, sub, err := _RewardsDistributor.contract.WatchLogs(opts, "PosterSet", posterRule)
	if err != nil {
		return nil, err
	}
	return event.NewSubscription(func(quit <-chan struct{}) error {
		defer sub.Unsubscribe()
		for {
			select {
			case log := <-logs:
				// New log arrived, parse the event and forward to the user
				event := new(RewardsDistributorPosterSet)
				if err := _RewardsDistributor.contract.UnpackLog(event, "PosterSet", log); err != nil {
					// If the signature doesn't match, skip this log.
					if errors.Is(err, bind.ErrEventSignatureMismatch) {
						continue
					}
					return err
				}
				event.Raw = log

				select {
				case sink <- event:
				case err := <-sub.Err():
					return err
				case <-quit:
					return nil
				}
			case err := <-sub.Err():
				return err
			case <-quit:
				return nil
			}
		}
	}), nil
}

// ParsePosterSet is a log parse operation binding the contract event 0x3da19a2cb558b1fcec9947c13144c03185aa0074e2dbeeab3ab9c54f090616cc.
//
// Solidity: event PosterSet(address indexed poster, bool allowed)
func (_RewardsDistributor *RewardsDistributorFilterer) ParsePosterSet(log types.Log) (*RewardsDistributorPosterSet, error) {
	event := new(RewardsDistributorPosterSet)
	if err := _RewardsDistributor.contract.UnpackLog(event, "PosterSet", log); err != nil {
		return nil, err
	}
	event.Raw = log
	return event, nil
}

// RewardsDistributorRootPostedIterator is returned from FilterRootPosted and is used to iterate over the raw logs and unpacked data for RootPosted events raised by the RewardsDistributor contract.
type RewardsDistributorRootPostedIterator struct {
	Event *RewardsDistributorRootPosted // Event containing the contract specifics and raw log

	contract *bind.BoundContract // Generic contract to use for unpacking event data
	event    string              // Event name to use for unpacking event data

	logs chan types.Log        // Log channel receiving the found contract events
	sub  ethereum.Subscription // Subscription for errors, completion and termination
	done bool                  // Whether the subscription completed delivering logs
	fail error                 // Occurred error to stop iteration
}

// Next advances the iterator to the subsequent event, returning whether there
// are any more events found. In case of a retrieval or parsing error, false is
// returned and Error() can be queried for the exact failure.
func (it *RewardsDistributorRootPostedIterator) Next() bool {
	// If the iterator failed, stop iterating
	if it.fail != nil {
		return false
	}
	// If the iterator completed, deliver directly whatever's available
	if it.done {
		select {
		case log := <-it.logs:
			it.Event = new(RewardsDistributorRootPosted)
			if err := it.contract.UnpackLog(it.Event, it.event, log); err != nil {
				it.fail = err
				return false
			}
			it.Event.Raw = log
			return true

		default:
			return false
		}
	}
	// Iterator still in progress, wait for either a data or an error event
	select {
	case log := <-it.logs:
		it.Event = new(RewardsDistributorRootPosted)
		if err := it.contract.UnpackLog(it.Event, it.event, log); err != nil {
			it.fail = err
			return false
		}
		it.Event.Raw = log
		return true

	case err := <-it.sub.Err():
		it.done = true
		it.fail = err
		return it.Next()
	}
}

// Error returns any retrieval or parsing error occurred during filtering.
func (it *RewardsDistributorRootPostedIterator) Error() error {
	return it.fail
}

// Close terminates the iteration process, releasing any pending underlying
// resources.
func (it *RewardsDistributorRootPostedIterator) Close() error {
	it.sub.Unsubscribe()
	return nil
}

// RewardsDistributorRootPosted represents a RootPosted event raised by the RewardsDistributor contract.
type RewardsDistributorRootPosted struct {
	Epoch uint64
	Root  [32]byte
	Raw   types.Log // Blockchain specific contextual infos
}

// FilterRootPosted is a free log retrieval operation binding the contract event 0x8c896e59121809fe87ce5ffd0f5fd63f6bf1d0eb1ad2902756c54220866c137f.
//
// Solidity: event RootPosted(uint64 indexed epoch, bytes32 root)
func (_RewardsDistributor *RewardsDistributorFilterer) FilterRootPosted(opts *bind.FilterOpts, epoch []uint64) (*RewardsDistributorRootPostedIterator, error) {

	var epochRule []interface{}
	for _, epochItem := range epoch {
		epochRule = append(epochRule, epochItem)
	}

	logs, sub, err := _RewardsDistributor.contract.FilterLogs(opts, "RootPosted", epochRule)
	if err != nil {
		return nil, err
	}
	return &RewardsDistributorRootPostedIterator{contract: _RewardsDistributor.contract, event: "RootPosted", logs: logs, sub: sub}, nil
}

// WatchRootPosted is a free log subscription operation binding the contract event 0x8c896e59121809fe87ce5ffd0f5fd63f6bf1d0eb1ad2902756c54220866c137f.
//
// Solidity: event RootPosted(uint64 indexed epoch, bytes32 root)
func (_RewardsDistributor *RewardsDistributorFilterer) WatchRootPosted(opts *bind.WatchOpts, sink chan<- *RewardsDistributorRootPosted, epoch []uint64) (event.Subscription, error) {

	var epochRule []interface{}
	for _, epochItem := range epoch {
		epochRule = append(epochRule, epochItem)
	}

	logs, sub, err := _RewardsDistributor.contract.WatchLogs(opts, "RootPosted", epochRule)
	if err != nil {
		return nil, err
	}
	return event.NewSubscription(func(quit <-chan struct{}) error {
		defer sub.Unsubscribe()
		for {
			select {
			case log := <-logs:
				// New log arrived, parse the event and forward to the user
				event := new(RewardsDistributorRootPosted)
				if err := _RewardsDistributor.contract.UnpackLog(event, "RootPosted", log); err != nil {
					// If the signature doesn't match, skip this log.
					if errors.Is(err, bind.ErrEventSignatureMismatch) {
						continue
					}
					return err
				}
				event.Raw = log

				select {
				case sink <- event:
				case err := <-sub.Err():
					return err
				case <-quit:
					return nil
				}
			case err := <-sub.Err():
				return err
			case <-quit:
				return nil
			}
		}
	}), nil
}

// ParseRootPosted is a log parse operation binding the contract event 0x8c896e59121809fe87ce5ffd0f5fd63f6bf1d0eb1ad2902756c54220866c137f.
//
// Solidity: event RootPosted(uint64 indexed epoch, bytes32 root)
func (_RewardsDistributor *RewardsDistributorFilterer) ParseRootPosted(log types.Log) (*RewardsDistributorRootPosted, error) {
	event := new(RewardsDistributorRootPosted)
	if err := _RewardsDistributor.contract.UnpackLog(event, "RootPosted", log); err != nil {
		return nil, err
	}
	event.Raw = log
	return event, nil
}

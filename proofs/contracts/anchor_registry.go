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

// AnchorRegistryMetaData contains all meta data concerning the AnchorRegistry contract.
var AnchorRegistryMetaData = &bind.MetaData{
	ABI: "[{\"inputs\":[{\"internalType\":\"bytes32\",\"name\":\"root\",\"type\":\"bytes32\"}],\"name\":\"AlreadyAnchored\",\"type\":\"error\"},{\"inputs\":[{\"internalType\":\"uint64\",\"name\":\"itemCount\",\"type\":\"uint64\"}],\"name\":\"ItemCountTooLarge\",\"type\":\"error\"},{\"inputs\":[{\"internalType\":\"uint8\",\"name\":\"bits\",\"type\":\"uint8\"},{\"internalType\":\"uint256\",\"name\":\"value\",\"type\":\"uint256\"}],\"name\":\"SafeCastOverflowedUintDowncast\",\"type\":\"error\"},{\"inputs\":[],\"name\":\"ZeroRoot\",\"type\":\"error\"},{\"anonymous\":false,\"inputs\":[{\"indexed\":true,\"internalType\":\"bytes32\",\"name\":\"root\",\"type\":\"bytes32\"},{\"indexed\":true,\"internalType\":\"address\",\"name\":\"submitter\",\"type\":\"address\"},{\"indexed\":false,\"internalType\":\"uint64\",\"name\":\"itemCount\",\"type\":\"uint64\"},{\"indexed\":false,\"internalType\":\"string\",\"name\":\"uri\",\"type\":\"string\"}],\"name\":\"Anchored\",\"type\":\"event\"},{\"inputs\":[{\"internalType\":\"bytes32\",\"name\":\"root\",\"type\":\"bytes32\"},{\"internalType\":\"uint64\",\"name\":\"itemCount\",\"type\":\"uint64\"},{\"internalType\":\"string\",\"name\":\"uri\",\"type\":\"string\"}],\"name\":\"anchor\",\"outputs\":[],\"stateMutability\":\"nonpayable\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"bytes32\",\"name\":\"root\",\"type\":\"bytes32\"}],\"name\":\"anchorOf\",\"outputs\":[{\"internalType\":\"uint64\",\"name\":\"blockNumber\",\"type\":\"uint64\"},{\"internalType\":\"uint64\",\"name\":\"timestamp\",\"type\":\"uint64\"},{\"internalType\":\"uint64\",\"name\":\"itemCount\",\"type\":\"uint64\"},{\"internalType\":\"address\",\"name\":\"submitter\",\"type\":\"address\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"bytes32\",\"name\":\"root\",\"type\":\"bytes32\"}],\"name\":\"isAnchored\",\"outputs\":[{\"internalType\":\"bool\",\"name\":\"\",\"type\":\"bool\"}],\"stateMutability\":\"view\",\"type\":\"function\"}]",
	Bin: "0x6080604052348015600e575f5ffd5b506105148061001c5f395ff3fe608060405234801561000f575f5ffd5b506004361061003f575f3560e01c80634f0b580114610043578063788c45311461008f578063cf4ff901146100a4575b5f5ffd5b61007a61005136600461040f565b5f9081526020819052604090205473ffffffffffffffffffffffffffffffffffffffff16151590565b60405190151581526020015b60405180910390f35b6100a261009d366004610426565b610183565b005b61013c6100b236600461040f565b5f9081526020819052604090205463ffffffff740100000000000000000000000000000000000000008204811692780100000000000000000000000000000000000000000000000083048216927c010000000000000000000000000000000000000000000000000000000081049092169173ffffffffffffffffffffffffffffffffffffffff1690565b6040805167ffffffffffffffff95861681529385166020850152919093169082015273ffffffffffffffffffffffffffffffffffffffff9091166060820152608001610086565b836101ba576040517fb263ae7300000000000000000000000000000000000000000000000000000000815260040160405180910390fd5b5f848152602081905260409020805473ffffffffffffffffffffffffffffffffffffffff161561021e576040517f30d23813000000000000000000000000000000000000000000000000000000008152600481018690526024015b60405180910390fd5b63ffffffff67ffffffffffffffff85161115610272576040517f789a020900000000000000000000000000000000000000000000000000000000815267ffffffffffffffff85166004820152602401610215565b80547fffffffffffffffffffffffff000000000000000000000000000000000000000016331781556102a3436103c2565b815463ffffffff9190911674010000000000000000000000000000000000000000027fffffffffffffffff00000000ffffffffffffffffffffffffffffffffffffffff9091161781556102f5426103c2565b815477ffffffffffffffffffffffffffffffffffffffffffffffff16780100000000000000000000000000000000000000000000000063ffffffff928316027bffffffffffffffffffffffffffffffffffffffffffffffffffffffff16177c010000000000000000000000000000000000000000000000000000000091861691909102178155604051339086907fc10c67aa645e970b6e9f69631a907c49b5f2ea120ad1d009358cf779d6a91679906103b3908890889088906104b7565b60405180910390a35050505050565b5f63ffffffff82111561040b576040517f6dfcc6500000000000000000000000000000000000000000000000000000000081526020600482015260248101839052604401610215565b5090565b5f6020828403121561041f575f5ffd5b5035919050565b5f5f5f5f60608587031215610439575f5ffd5b84359350602085013567ffffffffffffffff81168114610457575f5ffd5b9250604085013567ffffffffffffffff811115610472575f5ffd5b8501601f81018713610482575f5ffd5b803567ffffffffffffffff811115610498575f5ffd5b8760208284010111156104a9575f5ffd5b949793965060200194505050565b67ffffffffffffffff8416815260406020820152816040820152818360608301375f818301606090810191909152601f9092017fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffe01601019291505056",
}

// AnchorRegistryABI is the input ABI used to generate the binding from.
// Deprecated: Use AnchorRegistryMetaData.ABI instead.
var AnchorRegistryABI = AnchorRegistryMetaData.ABI

// AnchorRegistryBin is the compiled bytecode used for deploying new contracts.
// Deprecated: Use AnchorRegistryMetaData.Bin instead.
var AnchorRegistryBin = AnchorRegistryMetaData.Bin

// DeployAnchorRegistry deploys a new Ethereum contract, binding an instance of AnchorRegistry to it.
func DeployAnchorRegistry(auth *bind.TransactOpts, backend bind.ContractBackend) (common.Address, *types.Transaction, *AnchorRegistry, error) {
	parsed, err := AnchorRegistryMetaData.GetAbi()
	if err != nil {
		return common.Address{}, nil, nil, err
	}
	if parsed == nil {
		return common.Address{}, nil, nil, errors.New("GetABI returned nil")
	}

	address, tx, contract, err := bind.DeployContract(auth, *parsed, common.FromHex(AnchorRegistryBin), backend)
	if err != nil {
		return common.Address{}, nil, nil, err
	}
	return address, tx, &AnchorRegistry{AnchorRegistryCaller: AnchorRegistryCaller{contract: contract}, AnchorRegistryTransactor: AnchorRegistryTransactor{contract: contract}, AnchorRegistryFilterer: AnchorRegistryFilterer{contract: contract}}, nil
}

// AnchorRegistry is an auto generated Go binding around an Ethereum contract.
type AnchorRegistry struct {
	AnchorRegistryCaller     // Read-only binding to the contract
	AnchorRegistryTransactor // Write-only binding to the contract
	AnchorRegistryFilterer   // Log filterer for contract events
}

// AnchorRegistryCaller is an auto generated read-only Go binding around an Ethereum contract.
type AnchorRegistryCaller struct {
	contract *bind.BoundContract // Generic contract wrapper for the low level calls
}

// AnchorRegistryTransactor is an auto generated write-only Go binding around an Ethereum contract.
type AnchorRegistryTransactor struct {
	contract *bind.BoundContract // Generic contract wrapper for the low level calls
}

// AnchorRegistryFilterer is an auto generated log filtering Go binding around an Ethereum contract events.
type AnchorRegistryFilterer struct {
	contract *bind.BoundContract // Generic contract wrapper for the low level calls
}

// AnchorRegistrySession is an auto generated Go binding around an Ethereum contract,
// with pre-set call and transact options.
type AnchorRegistrySession struct {
	Contract     *AnchorRegistry   // Generic contract binding to set the session for
	CallOpts     bind.CallOpts     // Call options to use throughout this session
	TransactOpts bind.TransactOpts // Transaction auth options to use throughout this session
}

// AnchorRegistryCallerSession is an auto generated read-only Go binding around an Ethereum contract,
// with pre-set call options.
type AnchorRegistryCallerSession struct {
	Contract *AnchorRegistryCaller // Generic contract caller binding to set the session for
	CallOpts bind.CallOpts         // Call options to use throughout this session
}

// AnchorRegistryTransactorSession is an auto generated write-only Go binding around an Ethereum contract,
// with pre-set transact options.
type AnchorRegistryTransactorSession struct {
	Contract     *AnchorRegistryTransactor // Generic contract transactor binding to set the session for
	TransactOpts bind.TransactOpts         // Transaction auth options to use throughout this session
}

// AnchorRegistryRaw is an auto generated low-level Go binding around an Ethereum contract.
type AnchorRegistryRaw struct {
	Contract *AnchorRegistry // Generic contract binding to access the raw methods on
}

// AnchorRegistryCallerRaw is an auto generated low-level read-only Go binding around an Ethereum contract.
type AnchorRegistryCallerRaw struct {
	Contract *AnchorRegistryCaller // Generic read-only contract binding to access the raw methods on
}

// AnchorRegistryTransactorRaw is an auto generated low-level write-only Go binding around an Ethereum contract.
type AnchorRegistryTransactorRaw struct {
	Contract *AnchorRegistryTransactor // Generic write-only contract binding to access the raw methods on
}

// NewAnchorRegistry creates a new instance of AnchorRegistry, bound to a specific deployed contract.
func NewAnchorRegistry(address common.Address, backend bind.ContractBackend) (*AnchorRegistry, error) {
	contract, err := bindAnchorRegistry(address, backend, backend, backend)
	if err != nil {
		return nil, err
	}
	return &AnchorRegistry{AnchorRegistryCaller: AnchorRegistryCaller{contract: contract}, AnchorRegistryTransactor: AnchorRegistryTransactor{contract: contract}, AnchorRegistryFilterer: AnchorRegistryFilterer{contract: contract}}, nil
}

// NewAnchorRegistryCaller creates a new read-only instance of AnchorRegistry, bound to a specific deployed contract.
func NewAnchorRegistryCaller(address common.Address, caller bind.ContractCaller) (*AnchorRegistryCaller, error) {
	contract, err := bindAnchorRegistry(address, caller, nil, nil)
	if err != nil {
		return nil, err
	}
	return &AnchorRegistryCaller{contract: contract}, nil
}

// NewAnchorRegistryTransactor creates a new write-only instance of AnchorRegistry, bound to a specific deployed contract.
func NewAnchorRegistryTransactor(address common.Address, transactor bind.ContractTransactor) (*AnchorRegistryTransactor, error) {
	contract, err := bindAnchorRegistry(address, nil, transactor, nil)
	if err != nil {
		return nil, err
	}
	return &AnchorRegistryTransactor{contract: contract}, nil
}

// NewAnchorRegistryFilterer creates a new log filterer instance of AnchorRegistry, bound to a specific deployed contract.
func NewAnchorRegistryFilterer(address common.Address, filterer bind.ContractFilterer) (*AnchorRegistryFilterer, error) {
	contract, err := bindAnchorRegistry(address, nil, nil, filterer)
	if err != nil {
		return nil, err
	}
	return &AnchorRegistryFilterer{contract: contract}, nil
}

// bindAnchorRegistry binds a generic wrapper to an already deployed contract.
func bindAnchorRegistry(address common.Address, caller bind.ContractCaller, transactor bind.ContractTransactor, filterer bind.ContractFilterer) (*bind.BoundContract, error) {
	parsed, err := AnchorRegistryMetaData.GetAbi()
	if err != nil {
		return nil, err
	}
	return bind.NewBoundContract(address, *parsed, caller, transactor, filterer), nil
}

// Call invokes the (constant) contract method with params as input values and
// sets the output to result. The result type might be a single field for simple
// returns, a slice of interfaces for anonymous returns and a struct for named
// returns.
func (_AnchorRegistry *AnchorRegistryRaw) Call(opts *bind.CallOpts, result *[]interface{}, method string, params ...interface{}) error {
	return _AnchorRegistry.Contract.AnchorRegistryCaller.contract.Call(opts, result, method, params...)
}

// Transfer initiates a plain transaction to move funds to the contract, calling
// its default method if one is available.
func (_AnchorRegistry *AnchorRegistryRaw) Transfer(opts *bind.TransactOpts) (*types.Transaction, error) {
	return _AnchorRegistry.Contract.AnchorRegistryTransactor.contract.Transfer(opts)
}

// Transact invokes the (paid) contract method with params as input values.
func (_AnchorRegistry *AnchorRegistryRaw) Transact(opts *bind.TransactOpts, method string, params ...interface{}) (*types.Transaction, error) {
	return _AnchorRegistry.Contract.AnchorRegistryTransactor.contract.Transact(opts, method, params...)
}

// Call invokes the (constant) contract method with params as input values and
// sets the output to result. The result type might be a single field for simple
// returns, a slice of interfaces for anonymous returns and a struct for named
// returns.
func (_AnchorRegistry *AnchorRegistryCallerRaw) Call(opts *bind.CallOpts, result *[]interface{}, method string, params ...interface{}) error {
	return _AnchorRegistry.Contract.contract.Call(opts, result, method, params...)
}

// Transfer initiates a plain transaction to move funds to the contract, calling
// its default method if one is available.
func (_AnchorRegistry *AnchorRegistryTransactorRaw) Transfer(opts *bind.TransactOpts) (*types.Transaction, error) {
	return _AnchorRegistry.Contract.contract.Transfer(opts)
}

// Transact invokes the (paid) contract method with params as input values.
func (_AnchorRegistry *AnchorRegistryTransactorRaw) Transact(opts *bind.TransactOpts, method string, params ...interface{}) (*types.Transaction, error) {
	return _AnchorRegistry.Contract.contract.Transact(opts, method, params...)
}

// AnchorOf is a free data retrieval call binding the contract method 0xcf4ff901.
//
// Solidity: function anchorOf(bytes32 root) view returns(uint64 blockNumber, uint64 timestamp, uint64 itemCount, address submitter)
func (_AnchorRegistry *AnchorRegistryCaller) AnchorOf(opts *bind.CallOpts, root [32]byte) (struct {
	BlockNumber uint64
	Timestamp   uint64
	ItemCount   uint64
	Submitter   common.Address
}, error) {
	var out []interface{}
	err := _AnchorRegistry.contract.Call(opts, &out, "anchorOf", root)

	outstruct := new(struct {
		BlockNumber uint64
		Timestamp   uint64
		ItemCount   uint64
		Submitter   common.Address
	})
	if err != nil {
		return *outstruct, err
	}

	outstruct.BlockNumber = *abi.ConvertType(out[0], new(uint64)).(*uint64)
	outstruct.Timestamp = *abi.ConvertType(out[1], new(uint64)).(*uint64)
	outstruct.ItemCount = *abi.ConvertType(out[2], new(uint64)).(*uint64)
	outstruct.Submitter = *abi.ConvertType(out[3], new(common.Address)).(*common.Address)

	return *outstruct, err

}

// AnchorOf is a free data retrieval call binding the contract method 0xcf4ff901.
//
// Solidity: function anchorOf(bytes32 root) view returns(uint64 blockNumber, uint64 timestamp, uint64 itemCount, address submitter)
func (_AnchorRegistry *AnchorRegistrySession) AnchorOf(root [32]byte) (struct {
	BlockNumber uint64
	Timestamp   uint64
	ItemCount   uint64
	Submitter   common.Address
}, error) {
	return _AnchorRegistry.Contract.AnchorOf(&_AnchorRegistry.CallOpts, root)
}

// AnchorOf is a free data retrieval call binding the contract method 0xcf4ff901.
//
// Solidity: function anchorOf(bytes32 root) view returns(uint64 blockNumber, uint64 timestamp, uint64 itemCount, address submitter)
func (_AnchorRegistry *AnchorRegistryCallerSession) AnchorOf(root [32]byte) (struct {
	BlockNumber uint64
	Timestamp   uint64
	ItemCount   uint64
	Submitter   common.Address
}, error) {
	return _AnchorRegistry.Contract.AnchorOf(&_AnchorRegistry.CallOpts, root)
}

// IsAnchored is a free data retrieval call binding the contract method 0x4f0b5801.
//
// Solidity: function isAnchored(bytes32 root) view returns(bool)
func (_AnchorRegistry *AnchorRegistryCaller) IsAnchored(opts *bind.CallOpts, root [32]byte) (bool, error) {
	var out []interface{}
	err := _AnchorRegistry.contract.Call(opts, &out, "isAnchored", root)

	if err != nil {
		return *new(bool), err
	}

	out0 := *abi.ConvertType(out[0], new(bool)).(*bool)

	return out0, err

}

// IsAnchored is a free data retrieval call binding the contract method 0x4f0b5801.
//
// Solidity: function isAnchored(bytes32 root) view returns(bool)
func (_AnchorRegistry *AnchorRegistrySession) IsAnchored(root [32]byte) (bool, error) {
	return _AnchorRegistry.Contract.IsAnchored(&_AnchorRegistry.CallOpts, root)
}

// IsAnchored is a free data retrieval call binding the contract method 0x4f0b5801.
//
// Solidity: function isAnchored(bytes32 root) view returns(bool)
func (_AnchorRegistry *AnchorRegistryCallerSession) IsAnchored(root [32]byte) (bool, error) {
	return _AnchorRegistry.Contract.IsAnchored(&_AnchorRegistry.CallOpts, root)
}

// Anchor is a paid mutator transaction binding the contract method 0x788c4531.
//
// Solidity: function anchor(bytes32 root, uint64 itemCount, string uri) returns()
func (_AnchorRegistry *AnchorRegistryTransactor) Anchor(opts *bind.TransactOpts, root [32]byte, itemCount uint64, uri string) (*types.Transaction, error) {
	return _AnchorRegistry.contract.Transact(opts, "anchor", root, itemCount, uri)
}

// Anchor is a paid mutator transaction binding the contract method 0x788c4531.
//
// Solidity: function anchor(bytes32 root, uint64 itemCount, string uri) returns()
func (_AnchorRegistry *AnchorRegistrySession) Anchor(root [32]byte, itemCount uint64, uri string) (*types.Transaction, error) {
	return _AnchorRegistry.Contract.Anchor(&_AnchorRegistry.TransactOpts, root, itemCount, uri)
}

// Anchor is a paid mutator transaction binding the contract method 0x788c4531.
//
// Solidity: function anchor(bytes32 root, uint64 itemCount, string uri) returns()
func (_AnchorRegistry *AnchorRegistryTransactorSession) Anchor(root [32]byte, itemCount uint64, uri string) (*types.Transaction, error) {
	return _AnchorRegistry.Contract.Anchor(&_AnchorRegistry.TransactOpts, root, itemCount, uri)
}

// AnchorRegistryAnchoredIterator is returned from FilterAnchored and is used to iterate over the raw logs and unpacked data for Anchored events raised by the AnchorRegistry contract.
type AnchorRegistryAnchoredIterator struct {
	Event *AnchorRegistryAnchored // Event containing the contract specifics and raw log

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
func (it *AnchorRegistryAnchoredIterator) Next() bool {
	// If the iterator failed, stop iterating
	if it.fail != nil {
		return false
	}
	// If the iterator completed, deliver directly whatever's available
	if it.done {
		select {
		case log := <-it.logs:
			it.Event = new(AnchorRegistryAnchored)
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
		it.Event = new(AnchorRegistryAnchored)
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
func (it *AnchorRegistryAnchoredIterator) Error() error {
	return it.fail
}

// Close terminates the iteration process, releasing any pending underlying
// resources.
func (it *AnchorRegistryAnchoredIterator) Close() error {
	it.sub.Unsubscribe()
	return nil
}

// AnchorRegistryAnchored represents a Anchored event raised by the AnchorRegistry contract.
type AnchorRegistryAnchored struct {
	Root      [32]byte
	Submitter common.Address
	ItemCount uint64
	Uri       string
	Raw       types.Log // Blockchain specific contextual infos
}

// FilterAnchored is a free log retrieval operation binding the contract event 0xc10c67aa645e970b6e9f69631a907c49b5f2ea120ad1d009358cf779d6a91679.
//
// Solidity: event Anchored(bytes32 indexed root, address indexed submitter, uint64 itemCount, string uri)
func (_AnchorRegistry *AnchorRegistryFilterer) FilterAnchored(opts *bind.FilterOpts, root [][32]byte, submitter []common.Address) (*AnchorRegistryAnchoredIterator, error) {

	var rootRule []interface{}
	for _, rootItem := range root {
		rootRule = append(rootRule, rootItem)
	}
	var submitterRule []interface{}
	for _, submitterItem := range submitter {
		submitterRule = append(submitterRule, submitterItem)
	}

	logs, sub, err := _AnchorRegistry.contract.FilterLogs(opts, "Anchored", rootRule, submitterRule)
	if err != nil {
		return nil, err
	}
	return &AnchorRegistryAnchoredIterator{contract: _AnchorRegistry.contract, event: "Anchored", logs: logs, sub: sub}, nil
}

// WatchAnchored is a free log subscription operation binding the contract event 0xc10c67aa645e970b6e9f69631a907c49b5f2ea120ad1d009358cf779d6a91679.
//
// Solidity: event Anchored(bytes32 indexed root, address indexed submitter, uint64 itemCount, string uri)
func (_AnchorRegistry *AnchorRegistryFilterer) WatchAnchored(opts *bind.WatchOpts, sink chan<- *AnchorRegistryAnchored, root [][32]byte, submitter []common.Address) (event.Subscription, error) {

	var rootRule []interface{}
	for _, rootItem := range root {
		rootRule = append(rootRule, rootItem)
	}
	var submitterRule []interface{}
	for _, submitterItem := range submitter {
		submitterRule = append(submitterRule, submitterItem)
	}

	logs, sub, err := _AnchorRegistry.contract.WatchLogs(opts, "Anchored", rootRule, submitterRule)
	if err != nil {
		return nil, err
	}
	return event.NewSubscription(func(quit <-chan struct{}) error {
		defer sub.Unsubscribe()
		for {
			select {
			case log := <-logs:
				// New log arrived, parse the event and forward to the user
				event := new(AnchorRegistryAnchored)
				if err := _AnchorRegistry.contract.UnpackLog(event, "Anchored", log); err != nil {
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

// ParseAnchored is a log parse operation binding the contract event 0xc10c67aa645e970b6e9f69631a907c49b5f2ea120ad1d009358cf779d6a91679.
//
// Solidity: event Anchored(bytes32 indexed root, address indexed submitter, uint64 itemCount, string uri)
func (_AnchorRegistry *AnchorRegistryFilterer) ParseAnchored(log types.Log) (*AnchorRegistryAnchored, error) {
	event := new(AnchorRegistryAnchored)
	if err := _AnchorRegistry.contract.UnpackLog(event, "Anchored", log); err != nil {
		return nil, err
	}
	event.Raw = log
	return event, nil
}

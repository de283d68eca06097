// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";

/// @title RewardsDistributor
/// @notice Pays cumulative rewards of one ERC-20 token against a Merkle root
/// posted per epoch. A leaf is the OpenZeppelin StandardMerkleTree leaf of
/// (address account, uint256 cumulativeAmount): the total ever owed to
/// account. A claim pays what is owed beyond what account already claimed.
contract RewardsDistributor is Ownable {
    using SafeERC20 for IERC20;

    /// @notice The token paid out.
    IERC20 public immutable token;

    /// @notice The root of the latest epoch; claims are proved against it.
    bytes32 public currentRoot;

    /// @notice The latest epoch posted; 0 before the first post.
    uint64 public currentEpoch;

    /// @notice Accounts allowed to post roots.
    mapping(address poster => bool) public isPoster;

    /// @notice Total paid to each account so far.
    mapping(address account => uint256) public claimed;

    event PosterSet(address indexed poster, bool allowed);
    event RootPosted(uint64 indexed epoch, bytes32 root);
    event Claimed(address indexed account, uint256 amount, uint256 cumulative);

    error ZeroAddress();
    error ZeroRoot();
    error NotPoster(address caller);
    error EpochNotIncreasing(uint64 epoch, uint64 current);
    error InvalidProof();
    error NothingToClaim(address account, uint256 cumulative, uint256 alreadyClaimed);

    constructor(IERC20 token_, address initialOwner) Ownable(initialOwner) {
        if (address(token_) == address(0)) revert ZeroAddress();
        token = token_;
    }

    /// @notice Allows or forbids poster to post roots.
    function setPoster(address poster, bool allowed) external onlyOwner {
        if (poster == address(0)) revert ZeroAddress();
        isPoster[poster] = allowed;
        emit PosterSet(poster, allowed);
    }

    /// @notice Posts the root of epoch, which must be above currentEpoch.
    function postRoot(uint64 epoch, bytes32 root) external {
        if (!isPoster[msg.sender]) revert NotPoster(msg.sender);
        if (root == bytes32(0)) revert ZeroRoot();
        if (epoch <= currentEpoch) revert EpochNotIncreasing(epoch, currentEpoch);
        currentEpoch = epoch;
        currentRoot = root;
        emit RootPosted(epoch, root);
    }

    /// @notice Pays account what it is owed under the current root beyond
    /// what it already claimed. Anyone may submit the claim; the tokens go to
    /// account.
    function claim(address account, uint256 cumulativeAmount, bytes32[] calldata proof) external {
        bytes32 leaf = keccak256(bytes.concat(keccak256(abi.encode(account, cumulativeAmount))));
        if (!MerkleProof.verifyCalldata(proof, currentRoot, leaf)) revert InvalidProof();
        uint256 already = claimed[account];
        if (cumulativeAmount <= already) revert NothingToClaim(account, cumulativeAmount, already);
        claimed[account] = cumulativeAmount;
        uint256 amount = cumulativeAmount - already;
        emit Claimed(account, amount, cumulativeAmount);
        token.safeTransfer(account, amount);
    }
}

// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

/// @title AnchorRegistry
/// @notice Anchors Merkle roots of batches of openledger objects. Anyone may
/// anchor a root; a root is anchored once, and the registry keeps the block,
/// time, item count and submitter of its anchoring.
contract AnchorRegistry {
    /// @dev One storage slot per root, since new storage is the bulk of an
    /// anchor's gas. 32-bit block numbers last 272 years at 2 s blocks and
    /// 32-bit timestamps until 2106; past that anchor reverts rather than
    /// store a wrong value.
    struct Anchor {
        address submitter;
        uint32 blockNumber;
        uint32 timestamp;
        uint32 itemCount;
    }

    mapping(bytes32 root => Anchor) private _anchors;

    /// @notice Emitted once per anchored root.
    event Anchored(bytes32 indexed root, address indexed submitter, uint64 itemCount, string uri);

    /// @notice The root is zero, which is never a Merkle root.
    error ZeroRoot();

    /// @notice The root is already anchored.
    error AlreadyAnchored(bytes32 root);

    /// @notice A batch holds at most 2^32-1 items.
    error ItemCountTooLarge(uint64 itemCount);

    /// @notice Anchors root, the Merkle root of a batch of itemCount items
    /// described at uri (which may be empty).
    function anchor(bytes32 root, uint64 itemCount, string calldata uri) external {
        if (root == bytes32(0)) revert ZeroRoot();
        Anchor storage a = _anchors[root];
        if (a.submitter != address(0)) revert AlreadyAnchored(root);
        if (itemCount > type(uint32).max) revert ItemCountTooLarge(itemCount);
        a.submitter = msg.sender;
        a.blockNumber = SafeCast.toUint32(block.number);
        a.timestamp = SafeCast.toUint32(block.timestamp);
        a.itemCount = uint32(itemCount);
        emit Anchored(root, msg.sender, itemCount, uri);
    }

    /// @notice Returns the anchoring of root, all zeros when it is not anchored.
    function anchorOf(bytes32 root)
        external
        view
        returns (uint64 blockNumber, uint64 timestamp, uint64 itemCount, address submitter)
    {
        Anchor storage a = _anchors[root];
        return (a.blockNumber, a.timestamp, a.itemCount, a.submitter);
    }

    /// @notice Reports whether root is anchored.
    function isAnchored(bytes32 root) external view returns (bool) {
        return _anchors[root].submitter != address(0);
    }
}

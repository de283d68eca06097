// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";

/// @title OpenToken
/// @notice A test OPEN token for dev chains and tests: 18 decimals, minted
/// by its owner. It is not the OPEN token of the OpenLedger L2.
contract OpenToken is ERC20, Ownable {
    constructor(address initialOwner) ERC20("OpenLedger Test", "OPEN") Ownable(initialOwner) {}

    /// @notice Mints amount to to.
    function mint(address to, uint256 amount) external onlyOwner {
        _mint(to, amount);
    }
}

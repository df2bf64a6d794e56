@scim @groups
Feature: SCIM groups
  Groups hold users and other groups as members (RFC 7643 §4.2); a user's read-only `groups` attribute lists the
  groups it belongs to.

  Background:
    Given a user "alice"
    And a user "bob"
    And a user "carol"

  @rfc7643-4.2 @must
  Scenario: A group is created with members
    Given a group "eng" with members "alice", "bob" and "carol"
    Then group "eng" has exactly the members "alice", "bob" and "carol"
    And user "alice" is a member of "eng"

  @rfc7644-3.5.2.2 @must
  Scenario: Removing one member by a value filter keeps the others
    Given a group "eng" with members "alice", "bob" and "carol"
    When I patch group "eng" with:
      """
      [{"op": "remove", "path": "members[value eq \"{{bob}}\"]"}]
      """
    Then the request succeeded
    And group "eng" has exactly the members "alice" and "carol"

  @rfc7644-3.5.2.1 @must
  Scenario: Adding members keeps the existing ones
    Given a group "eng" with members "alice"
    When I patch group "eng" with:
      """
      [{"op": "add", "path": "members", "value": [{"value": "{{bob}}"}, {"value": "{{carol}}"}]}]
      """
    Then the request succeeded
    And group "eng" has exactly the members "alice", "bob" and "carol"

  @rfc7644-3.5.2.3 @must
  Scenario: Replacing the members replaces the whole list
    Given a group "eng" with members "alice" and "bob"
    When I patch group "eng" with:
      """
      [{"op": "replace", "path": "members", "value": [{"value": "{{carol}}"}]}]
      """
    Then the request succeeded
    And group "eng" has exactly the members "carol"

  @rfc7643-4.2 @must
  Scenario: Groups nest, and a user's groups include the indirect ones
    Given a group "eng" with members "alice"
    And a group "staff" with members "eng"
    Then group "staff" has exactly the members "eng"
    And user "alice" is a member of "eng" and "staff"

  @rfc7644-3.6 @must
  Scenario: Deleting a user removes it from its groups
    Given a group "eng" with members "alice" and "bob"
    When I delete user "bob"
    Then group "eng" has exactly the members "alice"

@scim @filter
Feature: Filtering and sorting
  Clients find resources with the filter grammar of RFC 7644 §3.4.2.2 and order them with §3.4.2.3.

  Background:
    Given a user "alice" with:
      """
      {"name": {"givenName": "Alice", "familyName": "Zed"}, "title": "Engineer", "active": true}
      """
    And a user "bob" with:
      """
      {"name": {"givenName": "Bob", "familyName": "Young"}, "title": "Manager", "active": false}
      """
    And a user "carol" with:
      """
      {"name": {"givenName": "Carol", "familyName": "Xu"}, "title": "Engineer", "active": true}
      """

  @rfc7644-3.4.2.2 @must
  Scenario: eq on userName is case-insensitive
    When I filter users by 'userName eq "{{run}}.ALICE@example.com"'
    Then the results are exactly "alice"

  @rfc7644-3.4.2.2 @must
  Scenario: sw, and, and a boolean comparison combine
    When I filter users by 'userName sw "{{run}}." and active eq true'
    Then the results are exactly "alice" and "carol"

  @rfc7644-3.4.2.2 @must
  Scenario: or and grouping with not
    When I filter users by 'userName sw "{{run}}." and (title eq "Manager" or not (name.givenName co "ar"))'
    Then the results are exactly "alice" and "bob"

  @rfc7644-3.4.2.2 @must
  Scenario: A filter that matches nothing answers an empty list
    When I filter users by 'userName eq "{{run}}.nobody@example.com"'
    Then there are 0 results

  @rfc7644-3.4.2.2 @must
  Scenario: An invalid filter is refused with invalidFilter
    When I filter users by 'userName eq'
    Then the request was refused with 400 and scimType "invalidFilter"

  @rfc7644-3.4.2.3 @should
  Scenario: sortBy orders by a sub-attribute
    When I send a GET request to "/Users?filter=userName sw \"{{run}}.\"&sortBy=name.familyName&sortOrder=ascending"
    Then the response status is 200
    And the results are in the order "carol", "bob" and "alice"

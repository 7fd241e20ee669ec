//! The qualified majority of member councils (CGCT L5211-5 II, by reference from L5211-17):
//! two thirds of the councils holding more than half of the population, or half of the
//! councils holding two thirds of it, including the council of the most populous commune when
//! it has more than a quarter of the population. Silence for three months is approval.

use entity::ConsentDecision;

use super::Tally;

/// The article every answer about the majority of a transfer cites.
pub const REFERENCE: &str = "CGCT L5211-17, L5211-5";

/// The article every answer about the majority of a restitution cites.
pub const RESTITUTION_REFERENCE: &str = "CGCT L5211-17-1, L5211-5";

/// What a council's silence counts as once the time to decide has passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Silence {
    /// Approval (a transfer to the EPCI, CGCT L5211-17).
    Approves,
    /// Refusal (a restitution to the communes, CGCT L5211-17-1).
    Refuses,
}

/// One member council: its commune's legal population and its decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Council {
    /// The member commune.
    pub party: i64,
    /// Its legal population (0 when none is shipped).
    pub population: i64,
    /// What its council decided.
    pub decision: ConsentDecision,
}

/// Where the councils stand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Standing {
    /// Member councils asked.
    pub councils: usize,
    /// Councils that approved.
    pub approved: usize,
    /// Councils that rejected.
    pub rejected: usize,
    /// Population of every member.
    pub population: i64,
    /// Population of the members whose council approved.
    pub population_approved: i64,
    /// The most populous commune, when it has more than a quarter of the population (its
    /// council must be in the majority).
    pub required: Option<i64>,
    /// Whether the approvals already make the majority.
    pub reached: bool,
    /// Whether the majority can still be reached (counting every undecided council as
    /// approving, as its silence would at the deadline).
    pub possible: bool,
}

fn is_majority(
    councils: &[Council],
    approves: impl Fn(&Council) -> bool,
    required: Option<i64>,
) -> bool {
    let total = councils.len() as i64;
    let population: i64 = councils.iter().map(|c| c.population).sum();
    let yes: Vec<&Council> = councils.iter().filter(|c| approves(c)).collect();
    let n = yes.len() as i64;
    let p: i64 = yes.iter().map(|c| c.population).sum();
    let two_thirds_of_councils = 3 * n >= 2 * total && 2 * p > population;
    let half_of_councils = 2 * n >= total && 3 * p >= 2 * population;
    let includes_required = required.is_none_or(|r| yes.iter().any(|c| c.party == r));
    total > 0 && (two_thirds_of_councils || half_of_councils) && includes_required
}

/// Where `councils` stand.
pub fn standing(councils: &[Council]) -> Standing {
    let population: i64 = councils.iter().map(|c| c.population).sum();
    // Ties go to the smaller id, so the answer never depends on the order of the rows.
    let required = councils
        .iter()
        .max_by_key(|c| (c.population, std::cmp::Reverse(c.party)))
        .filter(|c| 4 * c.population > population)
        .map(|c| c.party);
    let count = |d: ConsentDecision| councils.iter().filter(|c| c.decision == d).count();
    Standing {
        councils: councils.len(),
        approved: count(ConsentDecision::Approved),
        rejected: count(ConsentDecision::Rejected),
        population,
        population_approved: councils
            .iter()
            .filter(|c| c.decision == ConsentDecision::Approved)
            .map(|c| c.population)
            .sum(),
        required,
        reached: is_majority(
            councils,
            |c| c.decision == ConsentDecision::Approved,
            required,
        ),
        possible: is_majority(
            councils,
            |c| c.decision != ConsentDecision::Rejected,
            required,
        ),
    }
}

/// The outcome: approved as soon as the approvals make the majority, rejected as soon as it
/// cannot be made; once the deadline has passed, the silent councils count as `silence` says.
pub fn outcome(councils: &[Council], deadline_passed: bool, silence: Silence) -> Tally {
    let s = standing(councils);
    if s.reached {
        Tally::Approved
    } else if !s.possible {
        Tally::Rejected
    } else if deadline_passed {
        match silence {
            Silence::Approves => Tally::Approved,
            Silence::Refuses => Tally::Rejected,
        }
    } else {
        Tally::Pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ConsentDecision::{Approved as Y, Pending as P, Rejected as N};

    fn councils(rows: &[(i64, ConsentDecision)]) -> Vec<Council> {
        rows.iter()
            .enumerate()
            .map(|(i, &(population, decision))| Council {
                party: i as i64 + 1,
                population,
                decision,
            })
            .collect()
    }

    #[test]
    fn two_thirds_of_councils_with_more_than_half_of_the_population() {
        // 4 of 6 councils, 510 of 1,000 inhabitants; no commune above a quarter.
        let c = councils(&[(200, Y), (150, Y), (100, Y), (60, Y), (240, N), (250, N)]);
        assert_eq!(outcome(&c, false, Silence::Approves), Tally::Approved);
        // Exactly half of the population is not more than half.
        let c = councils(&[(200, Y), (150, Y), (100, Y), (50, Y), (250, N), (250, N)]);
        assert_eq!(outcome(&c, false, Silence::Approves), Tally::Rejected);
    }

    #[test]
    fn half_of_councils_with_two_thirds_of_the_population() {
        // 3 of 6 councils, 700 of 1,000 inhabitants (the most populous, 240, among them).
        let c = councils(&[(240, Y), (230, Y), (230, Y), (100, N), (100, N), (100, N)]);
        assert_eq!(outcome(&c, false, Silence::Approves), Tally::Approved);
        // 3 of 6 with 660: neither majority, and nothing is pending.
        let c = councils(&[(240, Y), (210, Y), (210, Y), (110, N), (115, N), (115, N)]);
        assert_eq!(outcome(&c, false, Silence::Approves), Tally::Rejected);
    }

    #[test]
    fn the_most_populous_commune_above_a_quarter_must_approve() {
        // 5 of 6 councils and 60 % of the population, but the commune with 40 % refuses.
        let c = councils(&[(400, N), (120, Y), (120, Y), (120, Y), (120, Y), (120, Y)]);
        let s = standing(&c);
        assert_eq!(s.required, Some(1));
        assert!(!s.possible);
        assert_eq!(outcome(&c, true, Silence::Approves), Tally::Rejected);
        // At a quarter exactly it has no such weight.
        let c = councils(&[(250, N), (150, Y), (150, Y), (150, Y), (150, Y), (150, Y)]);
        assert_eq!(standing(&c).required, None);
        assert_eq!(outcome(&c, false, Silence::Approves), Tally::Approved);
    }

    #[test]
    fn silence_is_approval_only_once_the_deadline_has_passed() {
        let c = councils(&[(100, Y), (100, P), (100, P), (100, P)]);
        assert_eq!(outcome(&c, false, Silence::Approves), Tally::Pending);
        assert_eq!(outcome(&c, true, Silence::Approves), Tally::Approved);
        // Two refusals of four leave the first majority out of reach, but half of the
        // councils with two thirds of the population remains possible until the end.
        let c = councils(&[(350, P), (350, P), (150, N), (150, N)]);
        assert_eq!(outcome(&c, false, Silence::Approves), Tally::Pending);
        assert_eq!(outcome(&c, true, Silence::Approves), Tally::Approved);
        let c = councils(&[(300, P), (200, N), (200, N), (300, N)]);
        assert_eq!(outcome(&c, false, Silence::Approves), Tally::Rejected);
    }

    #[test]
    fn silence_is_refusal_for_a_restitution() {
        let c = councils(&[(100, Y), (100, P), (100, P), (100, P)]);
        assert_eq!(outcome(&c, false, Silence::Refuses), Tally::Pending);
        assert_eq!(outcome(&c, true, Silence::Refuses), Tally::Rejected);
        // The majority the councils made before the deadline stands.
        let c = councils(&[(100, Y), (100, Y), (100, Y), (100, P)]);
        assert_eq!(outcome(&c, true, Silence::Refuses), Tally::Approved);
    }

    #[test]
    fn no_member_no_majority() {
        assert_eq!(outcome(&[], true, Silence::Approves), Tally::Rejected);
    }
}

{#-
    Trends across School Census days: pupils on roll at an authority school on each census day,
    and of them those eligible for free school meals on the day, on SEN support and with an EHC
    plan, in total and by sex, ethnicity, postcode district and national curriculum year.
    Long form; disclosure controlled per census, measure and breakdown, and, for the spring
    censuses, together with outcomes_by_group, which publishes the same pupils (see
    outcomes_pupils).
-#}
with

enrolments as (
    select * from {{ ref('fct_school_enrolments') }}
),

children as (
    select * from {{ ref('dim_child') }}
),

pupils as (
    -- A pupil on two rolls on one census day (dual registration) is counted once.
    select
        enrolments.census_period,
        enrolments.person_key,
        min(enrolments.census_date) as census_date,
        bool_or(enrolments.is_fsm_eligible) as is_fsm_eligible,
        bool_or(enrolments.sen_provision = 'K') as has_sen_support,
        bool_or(enrolments.sen_provision = 'E') as has_ehc_plan,
        coalesce(max(enrolments.national_curriculum_year), 'not known') as nc_year
    from enrolments
    group by enrolments.census_period, enrolments.person_key
),

pupil_measures as (
    select
        pupils.census_period,
        pupils.census_date,
        pupils.person_key,
        pupils.nc_year,
        true as on_roll,
        pupils.is_fsm_eligible as fsm_eligible,
        pupils.has_sen_support as sen_support,
        pupils.has_ehc_plan as ehc_plan,
        children.sex,
        coalesce(children.ethnicity, 'not known') as ethnicity,
        coalesce(children.postcode_district, 'not known') as postcode_district
    from pupils
    inner join children on pupils.person_key = children.person_key
),

measures as (
    select * from pupil_measures
    unpivot (is_counted for measure in (on_roll, fsm_eligible, sen_support, ehc_plan))
),

counted as (
    select * from measures
    where is_counted
),

by_characteristic as (
    select * from counted
    unpivot (breakdown_value for breakdown in (sex, ethnicity, postcode_district, nc_year))
),

-- A measure's total is one count (`cell_breakdown` 'all') in each of its breakdowns' tables.
cells as (
    select
        census_period,
        census_date,
        measure,
        breakdown,
        breakdown_value,
        false as is_total,
        count(*) as pupils,
        breakdown as cell_breakdown
    from by_characteristic
    group by census_period, census_date, measure, breakdown, breakdown_value
    union all
    select
        census_period,
        census_date,
        measure,
        breakdown,
        'all' as breakdown_value,
        true as is_total,
        count(*) as pupils,
        'all' as cell_breakdown
    from by_characteristic
    group by census_period, census_date, measure, breakdown
),

-- outcomes_by_group publishes the pupils on roll at each spring (January) census too, all
-- pupils and those eligible for free school meals, in total and by sex, postcode district,
-- ethnicity group and key stage: the same counts as on_roll and fsm_eligible here in total
-- and by sex and district, and the sums of ethnicities and of year groups here. What it
-- withholds is withheld here; what it publishes is never withheld here.
outcomes_pupils as (
    select
        breakdown_value,
        cast(cast(left(academic_year, 4) as integer) + 1 as string) || '-spring'
            as census_period,
        case outcome_group when 'all pupils' then 'on_roll' else 'fsm_eligible' end as measure,
        case when is_total then 'all' else breakdown end as cell_breakdown,
        bool_or(pupils is null) as is_withheld_in_outcomes
    from {{ ref('outcomes_by_group') }}
    where
        outcome_group in ('all pupils', 'free school meals')
        and measure in ('suspensions', 'permanent_exclusions')
    group by all
),

-- The published tables, and for those spring counts one more table per ethnicity group and
-- key stage: its ethnicities (year groups) add up to the group's count in outcomes_by_group.
-- An ethnicity or year group is one cell of both its tables.
grouped as (
    select
        *,
        case breakdown
            when 'ethnicity' then {{ ethnicity_group('breakdown_value') }}
            when 'nc_year' then {{ key_stage('breakdown_value') }}
        end as breakdown_group
    from cells
    where
        census_period like '%-spring'
        and measure in ('on_roll', 'fsm_eligible')
        and breakdown in ('ethnicity', 'nc_year')
        and not is_total
),

control_cells as (
    select
        *,
        breakdown as control_table,
        true as is_published
    from cells
    union all
    select
        {{ star_except(['breakdown_group']) }},
        breakdown || ': ' || breakdown_group as control_table,
        false as is_published
    from grouped
    union all
    select
        census_period,
        census_date,
        measure,
        breakdown,
        breakdown_group as breakdown_value,
        true as is_total,
        sum(pupils) as pupils,
        case breakdown when 'ethnicity' then 'ethnicity_group' else 'key_stage' end
            as cell_breakdown,
        breakdown || ': ' || breakdown_group as control_table,
        false as is_published
    from grouped
    group by census_period, census_date, measure, breakdown, breakdown_group
),

-- A group of one ethnicity (year group) with pupils is that ethnicity's count: published or
-- withheld as outcomes_by_group publishes or withholds the group.
only_code_of_group as (
    select
        census_period,
        measure,
        breakdown,
        breakdown_group,
        case breakdown when 'ethnicity' then 'ethnicity_group' else 'key_stage' end
            as group_breakdown,
        any_value(breakdown_value) as breakdown_value
    from grouped
    where pupils > 0
    group by census_period, measure, breakdown, breakdown_group
    having count(*) = 1
),

control_cells_with_outcomes as (
    select
        control_cells.*,
        coalesce(outcomes_pupils.is_withheld_in_outcomes, group_outcomes.is_withheld_in_outcomes)
            as is_withheld_in_outcomes
    from control_cells
    left join outcomes_pupils
        on
            control_cells.census_period = outcomes_pupils.census_period
            and control_cells.measure = outcomes_pupils.measure
            and control_cells.cell_breakdown = outcomes_pupils.cell_breakdown
            and control_cells.breakdown_value = outcomes_pupils.breakdown_value
    left join only_code_of_group
        on
            control_cells.census_period = only_code_of_group.census_period
            and control_cells.measure = only_code_of_group.measure
            and control_cells.cell_breakdown = only_code_of_group.breakdown
            and control_cells.breakdown_value = only_code_of_group.breakdown_value
    left join outcomes_pupils as group_outcomes
        on
            only_code_of_group.census_period = group_outcomes.census_period
            and only_code_of_group.measure = group_outcomes.measure
            and only_code_of_group.group_breakdown = group_outcomes.cell_breakdown
            and only_code_of_group.breakdown_group = group_outcomes.breakdown_value
),

controlled as (
    {{ disclosure_control('control_cells_with_outcomes',
        ['census_period', 'measure', 'control_table'], 'pupils', 'breakdown_value',
        cell_by=['census_period', 'measure', 'cell_breakdown', 'breakdown_value'],
        withheld='is_withheld_in_outcomes') }}
),

final as (
    select
        controlled.census_period,
        controlled.census_date,
        controlled.measure,
        controlled.breakdown,
        controlled.breakdown_value,
        {{ breakdown_value_label('controlled.breakdown', 'controlled.breakdown_value',
            {'sex': 'dfe_sex', 'ethnicity': 'ethnicity', 'nc_year': 'nc_year'}) }}
            as breakdown_value_label,
        controlled.is_total,
        controlled.is_suppressed,
        cast(controlled.pupils as bigint) as pupils
    from controlled
    where controlled.is_published
)

select * from final

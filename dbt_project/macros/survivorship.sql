{#-
    Survivorship: which linked record's value becomes the child's golden value.

    Per attribute, sources are ranked in tiers (first tier most trusted; a source not listed
    ranks after every listed one). A value that is known beats one that says "not known"
    (e.g. sex U), then the most trusted tier wins, then the most recent record, then the
    highest record id so that the choice is always the same. Postcodes are the exception: the
    most recent wins, and trust only breaks ties.

    A record's recency is the month of its period end (as loaded): a census day and a monthly
    extract of the same month are equally recent, so trust decides between them. (By the day,
    every monthly extract of the census month would outrank the School Census and SEN2, the
    sources trusted most for an address after births.)
-#}

{% macro source_trust_tiers() -%}
    {{ return({
        'date_of_birth': [
            ['births'], ['school_census'], ['sen2'],
            ['children_in_need', 'looked_after', 'social_care_clients'], ['gp'],
        ],
        'sex': [
            ['births'], ['school_census'], ['sen2'],
            ['children_in_need', 'looked_after', 'social_care_clients'], ['gp'],
        ],
        'ethnicity': [
            ['school_census'], ['sen2'], ['children_in_need', 'looked_after'],
        ],
        'name': [
            ['school_census'], ['sen2'], ['social_care_clients'], ['gp'],
        ],
        'nhs_number': [
            ['births'], ['gp'],
            ['child_health', 'community_services', 'camhs', 'cyps', 'emergency_care',
             'admitted_care', 'deaths'],
        ],
        'upn': [
            ['school_census'], ['sen2'], ['children_in_need', 'looked_after'],
        ],
        'postcode': [
            ['births'], ['school_census'], ['sen2'],
            ['children_in_need', 'looked_after', 'social_care_clients'], ['gp'],
        ],
    }) }}
{%- endmacro %}

{% macro source_trust(attribute, source_column='source') -%}
    {#- 1 for the most trusted tier of `attribute`, then 2, 3...; unlisted sources last. -#}
    {%- set tiers = source_trust_tiers()[attribute] -%}
    case
        {%- for tier in tiers %}
        when {{ source_column }} in ('{{ tier | join("', '") }}') then {{ loop.index }}
        {%- endfor %}
        else {{ tiers | length + 1 }}
    end
{%- endmacro %}

{% macro survivor(
    value, attribute, is_known='true', most_recent_first=false, output=none, where=none
) -%}
    {#- Aggregate over a person's linked records (columns source, record_id, period_end):
        `output` (default `value`) of the record whose `value` survives.
        `where` restricts the records that may supply the value. -#}
    {%- set trust = ('trust', '-(' ~ source_trust(attribute) ~ ')') -%}
    {%- set recency = ('recency', "coalesce(date_trunc('month', period_end), date '1900-01-01')") -%}
    {{ arg_max(output or value, named_struct([
        ('is_known', 'coalesce(' ~ is_known ~ ', false)'),
        recency if most_recent_first else trust,
        trust if most_recent_first else recency,
        ('record_id', 'record_id'),
    ])) }} filter (where {{ value }} is not null{% if where %} and {{ where }}{% endif %})
{%- endmacro %}

{% macro is_valid_postcode(column) -%}
    {#- A normalised UK postcode: outward code, one space, inward code (HR1 2AB). -#}
    coalesce({{ matches_pattern(column, '[A-Z]{1,2}[0-9][A-Z0-9]? [0-9][A-Z]{2}') }}, false)
{%- endmacro %}

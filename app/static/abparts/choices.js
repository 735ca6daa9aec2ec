// Relation choices on demand (app/views/choices.py): every select.abparts-choices
// becomes a Select2 box that asks its data-choices-url as the user types.
// FAB's ab.js only knows whole-table selects; its filter script (ab_filters.js)
// builds the list's filter rows later, so new selects are picked up as they appear.
// Loaded on every page (abparts/base.html).
(function ($) {
    "use strict";

    function enhance(select) {
        var $select = $(select);
        if ($select.data("select2") || !document.body.contains(select)) {
            return;
        }
        $select.select2({
            theme: "bootstrap",
            width: "100%",
            allowClear: $select.data("allow-clear") === true,
            placeholder: $select.data("placeholder") || "",
            ajax: {
                url: $select.data("choices-url"),
                dataType: "json",
                delay: 250,
                data: function (params) {
                    return {q: params.term || "", page: params.page || 1};
                },
                processResults: function (data) {
                    return {results: data.results, pagination: {more: data.more}};
                }
            }
        });
    }

    function enhanceAll(root) {
        $(root).find("select.abparts-choices").addBack("select.abparts-choices").each(function () {
            enhance(this);
        });
    }

    $(function () {
        // Select2 4.0.13 with FAB's jQuery 3.6 leaves the focus on the closed box when it
        // opens: what a person then types goes nowhere.  Every Select2 box of the portal
        // (these, FAB's, the transfer form's) gets its search field focused.
        $(document).on("select2:open", function () {
            var field = document.querySelector(".select2-container--open .select2-search__field");
            if (field) {
                field.focus();
            }
        });
        enhanceAll(document.body);
        new MutationObserver(function (mutations) {
            mutations.forEach(function (mutation) {
                mutation.addedNodes.forEach(function (node) {
                    if (node.nodeType === 1) {
                        enhanceAll(node);
                    }
                });
            });
        }).observe(document.body, {childList: true, subtree: true});
    });
})(jQuery);

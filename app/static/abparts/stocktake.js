// The stocktake screens: type-ahead lookups on the plan form (Select2 with AJAX,
// bundled by Flask-AppBuilder; the counters' lookup sends the chosen warehouse),
// and on the count screen, finding a line by its part number.
(function ($) {
  "use strict";

  $(function () {
    // The report's print button (no inline handler: the Content-Security-Policy forbids them).
    $("[data-action=print]").on("click", function () { window.print(); });
    $(".abparts-lookup").each(function () {
      var $select = $(this);
      var $warehouse = $($select.data("warehouse") || []);
      $select.select2({
        ajax: {
          url: $select.data("url"),
          dataType: "json",
          delay: 200,
          data: function (params) {
            var query = { q: params.term || "" };
            if ($warehouse.length) { query.warehouse = $warehouse.val(); }
            return query;
          }
        },
        placeholder: $select.data("placeholder") || "Type to search",
        minimumInputLength: 0,
        width: "100%"
      });
    });

    // Count screen: typing (or scanning) a part number shows its line first.
    var $filter = $("#part_number");
    var $rows = $("#count-lines tbody tr");
    $filter.on("input", function () {
      var text = $filter.val().trim().toUpperCase();
      $rows.each(function () {
        var $row = $(this);
        $row.toggle(!text || String($row.data("part")).indexOf(text) !== -1);
      });
    });
    // Batch form: send only the counts typed or changed.
    $("#batch-form").on("submit", function () {
      $(this).find("input[name^='count_']").each(function () {
        if (this.value.trim() === "" || this.value === this.defaultValue) { this.disabled = true; }
      });
    });
  });
})(jQuery);
